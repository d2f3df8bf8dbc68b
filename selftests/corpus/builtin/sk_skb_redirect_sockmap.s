# name: sk_skb_redirect_sockmap
# prog_type: sk_skb
# attach_type: sk_skb_stream_verdict
# tags: map, helper
# expect: accept
# map: socks type=sockmap key=4 value=4 entries=8
# description: an sk_skb verdict program redirects the skb to a socket of a sockmap
r2 = map[socks]
r3 = 0
r4 = 0
call bpf_sk_redirect_map#52
exit
