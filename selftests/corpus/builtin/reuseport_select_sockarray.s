# name: reuseport_select_sockarray
# prog_type: sk_reuseport
# attach_type: sk_reuseport_select
# tags: map, helper, ctx
# expect: accept
# map: socks type=reuseport_sockarray key=4 value=4 entries=4
# description: an sk_reuseport program selects the socket in slot hash % 4 of a
# description: reuseport socket array
r6 = r1
r2 = *(u32 *)(r6 +32)
r2 &= 3
*(u32 *)(r10 -4) = r2
r1 = r6
r2 = map[socks]
r3 = r10
r3 += -4
r4 = 0
call bpf_sk_select_reuseport#82
r0 = 1
exit
