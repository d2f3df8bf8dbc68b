# name: tc_get_listener_sock
# prog_type: sched_cls
# tags: helper, ctx
# expect: accept
# description: from skb->sk to its listener socket (bpf_get_listener_sock),
# description: NULL-checked, reading the listener's port
r1 = *(u64 *)(r1 +168)
if r1 == 0x0 goto out
call bpf_get_listener_sock#98
if r0 == 0x0 goto out
r1 = *(u32 *)(r0 +44)
out:
r0 = 0
exit
