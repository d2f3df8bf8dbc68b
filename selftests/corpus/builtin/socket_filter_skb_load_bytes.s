# name: socket_filter_skb_load_bytes
# prog_type: socket_filter
# tags: helper, stack
# expect: accept
# description: a socket filter (no direct packet access) copies the IPv4 header
# description: with bpf_skb_load_bytes and filters on its protocol byte
r2 = 14
r3 = r10
r3 += -20
r4 = 20
call bpf_skb_load_bytes#26
if r0 != 0x0 goto drop
r0 = *(u8 *)(r10 -11)
if r0 != 0x6 goto drop
r0 = -1
exit
drop:
r0 = 0
exit
