# name: spill_fill_narrow_const
# prog_type: socket_filter
# tags: stack, map, memory
# expect: accept
# map: vals type=array key=4 value=64 entries=1
# description: a constant spilled as 64 bits and filled back as its low 32 bits
# description: is still that constant: used as a map value offset
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = 40
*(u64 *)(r10 -16) = r1
r2 = *(u32 *)(r10 -16)
r0 += r2
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
