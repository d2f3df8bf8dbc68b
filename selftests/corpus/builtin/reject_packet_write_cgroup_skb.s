# name: reject_packet_write_cgroup_skb
# prog_type: cgroup_skb
# attach_type: cgroup_inet_egress
# tags: packet, ctx
# expect: reject
# expect_message: cannot write into packet
# description: a cgroup skb program may read packet data directly, after a
# description: bounds check, but never write it
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 8
if r4 > r3 goto out
*(u32 *)(r2 +0) = 0
out:
r0 = 1
exit
