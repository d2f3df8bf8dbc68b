# name: reject_sock_ptr_arith
# prog_type: sched_cls
# tags: reference, alu, helper
# expect: reject
# expect_message: R0 pointer arithmetic on sock prohibited
# description: arithmetic on a socket pointer returned by bpf_sk_lookup_tcp
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0x0 goto out
r0 += 8
r1 = r0
call bpf_sk_release#86
out:
r0 = 0
exit
