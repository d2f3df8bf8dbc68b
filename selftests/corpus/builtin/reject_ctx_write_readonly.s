# name: reject_ctx_write_readonly
# prog_type: socket_filter
# tags: ctx
# expect: reject
# expect_message: invalid bpf_context access off=8 size=4
# description: a socket filter writes skb->mark, which only tc programs may change
r2 = 1
*(u32 *)(r1 +8) = r2
r0 = 0
exit
