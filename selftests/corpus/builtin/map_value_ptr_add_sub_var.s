# name: map_value_ptr_add_sub_var
# prog_type: socket_filter
# tags: map, alu, memory
# expect: reject
# expect_message: R0 min value is negative, either use unsigned index or do a if (index >=0) check.
# map: vals type=array key=4 value=64 entries=1
# description: a bounded variable added to and then subtracted from a map value
# description: pointer: the variable parts are tracked as ranges, not cancelled,
# description: so the final offset may look negative
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
r1 &= 31
r0 += r1
r0 -= r1
r0 = *(u8 *)(r0 +0)
out:
r0 = 0
exit
