# name: ldabs_bad
# prog_type: socket_filter
r0 = *(u8 *)skb[12]
exit
