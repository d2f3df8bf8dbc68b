# name: reject_lookup_in_ringbuf
# prog_type: tracepoint
# tags: map, helper
# expect: reject
# expect_message: invalid zero-sized read
# map: events type=ringbuf key=0 value=0 entries=4096
# description: bpf_map_lookup_elem on a ring buffer: its key size is 0, so the
# description: key argument is a zero-sized read
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[events]
call bpf_map_lookup_elem#1
r0 = 0
exit
