# name: array_map_bounded_index
# prog_type: socket_filter
# tags: map, helper, memory, alu
# expect: accept
# map: table type=array key=4 value=64 entries=4
# description: an index derived from the packet length is masked to 0..7 and
# description: scaled, so the 8-byte load stays inside the 64-byte map value
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[table]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
r1 &= 7
r1 <<= 3
r0 += r1
r0 = *(u64 *)(r0 +0)
exit
out:
r0 = 0
exit
