# name: reject_sk_use_after_release
# prog_type: sched_cls
# tags: reference, helper
# expect: reject
# expect_message: R6 invalid mem access 'scalar'
# description: a socket pointer kept in R6 is read after bpf_sk_release: releasing
# description: invalidates every copy of the reference
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0x0 goto out
r6 = r0
r1 = r0
call bpf_sk_release#86
r0 = *(u32 *)(r6 +4)
out:
r0 = 0
exit
