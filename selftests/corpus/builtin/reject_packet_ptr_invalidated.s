# name: reject_packet_ptr_invalidated
# prog_type: sched_cls
# tags: packet, helper, ctx
# expect: reject
# expect_message: R7 invalid mem access 'scalar'
# description: a packet pointer checked before bpf_skb_pull_data is used after
# description: it: the helper may move the packet, so every packet pointer dies
r6 = r1
r7 = *(u32 *)(r6 +76)
r3 = *(u32 *)(r6 +80)
r4 = r7
r4 += 4
if r4 > r3 goto out
r1 = r6
r2 = 4
call bpf_skb_pull_data#39
r0 = *(u32 *)(r7 +0)
out:
r0 = 0
exit
