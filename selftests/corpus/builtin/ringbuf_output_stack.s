# name: ringbuf_output_stack
# prog_type: tracepoint
# tags: map, helper, stack
# expect: accept
# map: events type=ringbuf key=0 value=0 entries=4096
# description: bpf_ringbuf_output copies a 24-byte record built on the stack; then
# description: bpf_ringbuf_query reads the buffer's fill level
r6 = r1
r1 = *(u64 *)(r6 +8)
*(u64 *)(r10 -24) = r1
call bpf_ktime_get_ns#5
*(u64 *)(r10 -16) = r0
*(u64 *)(r10 -8) = 0
r1 = map[events]
r2 = r10
r2 += -24
r3 = 24
r4 = 0
call bpf_ringbuf_output#130
r1 = map[events]
r2 = 0
call bpf_ringbuf_query#134
r0 = 0
exit
