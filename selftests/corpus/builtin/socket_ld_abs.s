# name: socket_ld_abs
# prog_type: socket_filter
# tags: packet, ctx, branch
# expect: accept
# description: legacy packet loads (LD_ABS / LD_IND, as classic BPF filters use
# description: them): keep only unfragmented IPv4 TCP packets
r6 = r1
r0 = *(u16 *)skb[12]
if r0 != 0x800 goto drop
r0 = *(u8 *)skb[23]
if r0 != 0x6 goto drop
r0 = *(u16 *)skb[20]
r0 &= 8191
if r0 != 0x0 goto drop
r7 = 14
r0 = *(u8 *)skb[r7 + 0]
r0 = -1
exit
drop:
r0 = 0
exit
