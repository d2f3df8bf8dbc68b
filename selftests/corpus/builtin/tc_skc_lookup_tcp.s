# name: tc_skc_lookup_tcp
# prog_type: sched_cls
# tags: helper, reference, stack
# expect: accept
# description: bpf_skc_lookup_tcp returns a socket-common reference (also
# description: request and timewait sockets); NULL-checked, a field read, released
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_skc_lookup_tcp#99
if r0 == 0x0 goto out
r2 = *(u32 *)(r0 +4)
r1 = r0
call bpf_sk_release#86
out:
r0 = 0
exit
