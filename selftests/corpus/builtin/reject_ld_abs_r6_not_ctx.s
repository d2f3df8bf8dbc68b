# name: reject_ld_abs_r6_not_ctx
# prog_type: socket_filter
# tags: packet, ctx
# expect: reject
# expect_message: at the time of BPF_LD_ABS|IND R6 != pointer to skb
# description: LD_ABS reads the skb through R6, which here holds a scalar
r6 = 0
r0 = *(u8 *)skb[12]
exit
