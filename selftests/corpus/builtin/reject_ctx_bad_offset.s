# name: reject_ctx_bad_offset
# prog_type: socket_filter
# tags: ctx
# expect: reject
# expect_message: invalid bpf_context access off=1000 size=4
# description: reads __sk_buff at an offset past its end
r0 = *(u32 *)(r1 +1000)
exit
