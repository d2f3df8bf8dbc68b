# name: tc_redirect_peer_neigh
# prog_type: sched_cls
# tags: helper
# expect: accept
# description: bpf_redirect_peer for ifindex 1 or else bpf_redirect_neigh without
# description: neighbour parameters (NULL pointer, size 0)
r6 = r1
r2 = *(u32 *)(r6 +8)
if r2 == 0x0 goto neigh
r1 = 1
r2 = 0
call bpf_redirect_peer#155
exit
neigh:
r1 = 1
r2 = 0
r3 = 0
r4 = 0
call bpf_redirect_neigh#152
exit
