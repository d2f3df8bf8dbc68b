# name: reject_raw_tp_ctx_oob
# prog_type: raw_tracepoint
# tags: ctx
# expect: reject
# expect_message: invalid bpf_context access off=96 size=8
# description: reads args[12] of a raw tracepoint, which has at most 12 arguments
r0 = *(u64 *)(r1 +96)
exit
