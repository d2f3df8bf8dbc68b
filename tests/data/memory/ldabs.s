# name: ldabs
# prog_type: socket_filter
r6 = r1
r0 = *(u8 *)skb[12]
r7 = 2
r0 = *(u16 *)skb[r7 + 4]
r0 = 0
exit
