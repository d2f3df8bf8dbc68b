# name: reject_sk_release_maybe_null
# prog_type: sched_cls
# tags: reference, helper
# expect: reject
# expect_message: R1 type=sock_or_null expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
# description: a socket lookup result released without a NULL check
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
r1 = r0
call bpf_sk_release#86
r0 = 0
exit
