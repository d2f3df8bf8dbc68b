# name: sk_msg_redirect_sockhash
# prog_type: sk_msg
# attach_type: sk_msg_verdict
# tags: map, helper, stack
# expect: accept
# map: socks type=sockhash key=4 value=4 entries=8
# description: an sk_msg program redirects a message to the socket found under a
# description: stack key in a sockhash
r2 = *(u32 *)(r1 +64)
*(u32 *)(r10 -4) = r2
r2 = map[socks]
r3 = r10
r3 += -4
r4 = 0
call bpf_msg_redirect_hash#71
exit
