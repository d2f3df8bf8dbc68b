# name: cgroup_skb_fullsock_tcp
# prog_type: cgroup_skb
# attach_type: cgroup_inet_egress
# tags: helper, ctx, reference
# expect: accept
# description: from skb->sk to a full socket (bpf_sk_fullsock) and to its TCP view
# description: (bpf_tcp_sock), each NULL-checked, reading fields of both
r1 = *(u64 *)(r1 +168)
if r1 == 0x0 goto out
call bpf_sk_fullsock#95
if r0 == 0x0 goto out
r6 = r0
r2 = *(u32 *)(r6 +8)
r1 = r6
call bpf_tcp_sock#96
if r0 == 0x0 goto out
r3 = *(u32 *)(r0 +8)
out:
r0 = 1
exit
