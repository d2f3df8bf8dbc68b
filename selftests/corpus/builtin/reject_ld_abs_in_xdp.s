# name: reject_ld_abs_in_xdp
# prog_type: xdp
# tags: packet
# expect: reject
# expect_message: BPF_LD_[ABS|IND] instructions not allowed for this program type
# description: legacy LD_ABS packet loads exist only for socket-buffer programs
r6 = r1
r0 = *(u8 *)skb[12]
r0 = 2
exit
