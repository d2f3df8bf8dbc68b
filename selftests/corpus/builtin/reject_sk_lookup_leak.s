# name: reject_sk_lookup_leak
# prog_type: sched_cls
# tags: reference, helper
# expect: reject
# expect_message: BPF_EXIT instruction in main prog would lead to reference leak
# description: a socket looked up, read, and never released
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_udp#85
if r0 == 0x0 goto out
r1 = *(u32 *)(r0 +4)
out:
r0 = 0
exit
