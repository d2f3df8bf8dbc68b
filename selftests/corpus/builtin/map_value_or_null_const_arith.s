# name: map_value_or_null_const_arith
# prog_type: socket_filter
# tags: alu, map, helper
# expect: accept
# map: vals type=array key=4 value=8 entries=1
# description: a constant added to a lookup result before its NULL check; the
# description: check afterwards still separates NULL from the value pointer
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
r0 += 4
if r0 == 0x0 goto out
r0 = *(u32 *)(r0 +0)
out:
r0 = 0
exit
