# name: linked_scalar_offset_copy
# prog_type: socket_filter
# tags: branch, map, alu
# expect: accept
# map: vals type=array key=4 value=64 entries=1
# description: a copy plus a constant (r2 = r1 + 8) is checked; the link carries
# description: the constant, so r1 is known to be 8 below r2's bound
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
r1 &= 0xffff
r2 = r1
r2 += 8
if r2 > 0x47 goto out
r0 += r1
r0 = *(u8 *)(r0 +0)
out:
r0 = 0
exit
