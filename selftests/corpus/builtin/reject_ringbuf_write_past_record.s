# name: reject_ringbuf_write_past_record
# prog_type: tracepoint
# tags: reference, map, memory
# expect: reject
# expect_message: R0 min value is outside of the allowed memory range
# map: events type=ringbuf key=0 value=0 entries=4096
# description: a 16-byte record reserved, and a store at offset 16
r1 = map[events]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
*(u64 *)(r0 +16) = 0
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
out:
r0 = 0
exit
