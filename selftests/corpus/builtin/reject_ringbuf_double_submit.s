# name: reject_ringbuf_double_submit
# prog_type: tracepoint
# tags: reference, map, helper
# expect: reject
# expect_message: R1 type=scalar expected=ringbuf_mem
# map: events type=ringbuf key=0 value=0 entries=4096
# description: a ring-buffer record submitted twice
r1 = map[events]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r6 = r0
r1 = r6
r2 = 0
call bpf_ringbuf_submit#132
r1 = r6
r2 = 0
call bpf_ringbuf_submit#132
out:
r0 = 0
exit
