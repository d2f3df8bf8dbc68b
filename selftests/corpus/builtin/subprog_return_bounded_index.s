# name: subprog_return_bounded_index
# prog_type: socket_filter
# tags: subprog, map, precision
# expect: accept
# map: vals type=array key=4 value=64 entries=1
# description: a subprogram returns a value masked to [0, 63] that the caller then
# description: uses as an index into a 64-byte map value: the bounds come back
# description: through the call
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r7 = r0
r1 = *(u32 *)(r6 +0)
call pick
r7 += r0
r0 = *(u8 *)(r7 +0)
out:
r0 = 0
exit
pick:
r0 = r1
r0 &= 63
exit
