# name: reject_ringbuf_leak
# prog_type: tracepoint
# tags: helper, map
# expect: reject
# expect_message: BPF_EXIT instruction in main prog would lead to reference leak
# map: events type=ringbuf key=0 value=0 entries=4096
# description: reserves a ring-buffer record and exits without submitting or
# description: discarding it: an unreleased reference
r1 = map[events]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
*(u64 *)(r0 +0) = 0
out:
r0 = 0
exit
