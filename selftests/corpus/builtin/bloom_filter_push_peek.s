# name: bloom_filter_push_peek
# prog_type: socket_filter
# tags: map, helper
# expect: accept
# map: seen type=bloom_filter key=0 value=4 entries=128
# description: a bloom filter map: add the packet length with map_push_elem, then
# description: test membership with map_peek_elem (no keys; value from the stack)
r6 = r1
r1 = *(u32 *)(r6 +0)
*(u32 *)(r10 -4) = r1
r1 = map[seen]
r2 = r10
r2 += -4
call bpf_map_peek_elem#89
if r0 == 0x0 goto known
r1 = map[seen]
r2 = r10
r2 += -4
r3 = 0
call bpf_map_push_elem#87
known:
r0 = 0
exit
