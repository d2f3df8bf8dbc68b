# name: reject_atomic_ctx
# prog_type: sched_cls
# tags: atomic, ctx
# expect: reject
# expect_message: BPF_ATOMIC stores into R1 ctx is not allowed
# description: an atomic add into the context (skb->mark): atomics work on
# description: stack and map values, not on the context
r2 = 1
lock *(u32 *)(r1 +8) += r2
r0 = 0
exit
