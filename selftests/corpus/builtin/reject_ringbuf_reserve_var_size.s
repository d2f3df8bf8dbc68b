# name: reject_ringbuf_reserve_var_size
# prog_type: tracepoint
# tags: reference, map, helper
# expect: reject
# expect_message: R2 is not a known constant'
# map: events type=ringbuf key=0 value=0 entries=4096
# description: bpf_ringbuf_reserve with a size that is bounded but not a constant
r2 = *(u64 *)(r1 +8)
r2 &= 63
r1 = map[events]
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard#133
out:
r0 = 0
exit
