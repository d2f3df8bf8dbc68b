# name: sk_lookup_assign
# prog_type: sk_lookup
# attach_type: sk_lookup
# tags: helper, map, reference
# expect: accept
# map: socks type=sockmap key=4 value=8 entries=4
# description: an sk_lookup program steers the connection to the socket in slot 0
# description: of a sockmap (lookup acquires a reference, bpf_sk_assign, release)
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[socks]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto drop
r7 = r0
r1 = r6
r2 = r7
r3 = 0
call bpf_sk_assign#124
r1 = r7
call bpf_sk_release#86
r0 = 1
exit
drop:
r0 = 0
exit
