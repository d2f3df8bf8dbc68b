# name: spill_fill_bounded_scalar
# prog_type: socket_filter
# tags: stack, map, memory
# expect: accept
# map: vals type=array key=4 value=64 entries=1
# description: a bounded unknown scalar spilled to the stack and filled back keeps
# description: its bounds: the fill indexes a 64-byte map value
r6 = r1
r8 = *(u32 *)(r6 +0)
r8 &= 56
*(u64 *)(r10 -16) = r8
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r2 = *(u64 *)(r10 -16)
r0 += r2
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
