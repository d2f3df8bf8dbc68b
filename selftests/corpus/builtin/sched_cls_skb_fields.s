# name: sched_cls_skb_fields
# prog_type: sched_cls
# tags: ctx
# expect: accept
# description: a tc classifier reads several __sk_buff fields and writes the
# description: ones tc may change: mark, priority, tc_classid, cb[0]
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +16)
r4 = *(u32 *)(r1 +40)
r5 = *(u32 *)(r1 +4)
r2 += r3
*(u32 *)(r1 +8) = r2
*(u32 *)(r1 +32) = r4
*(u32 *)(r1 +72) = r5
*(u32 *)(r1 +48) = r5
r0 = 0
exit
