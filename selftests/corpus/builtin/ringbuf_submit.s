# name: ringbuf_submit
# prog_type: tracepoint
# tags: helper, map, memory
# expect: accept
# map: events type=ringbuf key=0 value=0 entries=4096
# description: a ring-buffer record is reserved, checked for NULL, filled and
# description: submitted: the reference taken by reserve is released
r1 = map[events]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r6 = r0
call bpf_ktime_get_ns#5
*(u64 *)(r6 +0) = r0
*(u64 *)(r6 +8) = 0
r1 = r6
r2 = 0
call bpf_ringbuf_submit#132
out:
r0 = 0
exit
