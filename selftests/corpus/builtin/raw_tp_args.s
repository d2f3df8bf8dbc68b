# name: raw_tp_args
# prog_type: raw_tracepoint
# tags: ctx
# expect: accept
# description: a raw tracepoint reads its arguments from the u64 args[] context
r2 = *(u64 *)(r1 +0)
r3 = *(u64 *)(r1 +8)
r4 = *(u64 *)(r1 +88)
r2 += r3
r2 += r4
r0 = 0
exit
