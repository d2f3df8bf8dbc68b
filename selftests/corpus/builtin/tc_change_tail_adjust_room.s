# name: tc_change_tail_adjust_room
# prog_type: sched_cls
# tags: helper, packet
# expect: accept
# description: bpf_skb_change_tail grows the packet by 16 bytes and
# description: bpf_skb_adjust_room makes 8 bytes of room at the network layer;
# description: then a packet byte is read after fresh bounds checks
r6 = r1
r2 = *(u32 *)(r6 +0)
r2 += 16
r3 = 0
call bpf_skb_change_tail#38
r1 = r6
r2 = 8
r3 = 0
r4 = 0
call bpf_skb_adjust_room#50
r2 = *(u32 *)(r6 +76)
r3 = *(u32 *)(r6 +80)
r4 = r2
r4 += 1
if r4 > r3 goto out
r0 = *(u8 *)(r2 +0)
out:
r0 = 0
exit
