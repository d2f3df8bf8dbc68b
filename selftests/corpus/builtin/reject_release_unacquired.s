# name: reject_release_unacquired
# prog_type: tracepoint
# tags: helper, map
# expect: reject
# expect_message: R1 type=map_value expected=ringbuf_mem
# map: table type=array key=4 value=16 entries=1
# description: submits a map value to the ring buffer as if it had been reserved
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[table]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
out:
r0 = 0
exit
