# name: ld_ind_sched_cls
# prog_type: sched_cls
# tags: packet, ctx
# expect: accept
# description: legacy packet loads in a tc program: LD_ABS at a constant offset,
# description: LD_IND at the IHL-derived offset (R6 must hold the context)
r6 = r1
r0 = *(u8 *)skb[14]
r7 = r0
r7 &= 15
r7 <<= 2
r0 = *(u16 *)skb[r7 + 16]
r0 = 0
exit
