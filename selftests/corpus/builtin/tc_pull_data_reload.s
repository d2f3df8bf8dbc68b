# name: tc_pull_data_reload
# prog_type: sched_cls
# tags: packet, helper
# expect: accept
# description: bpf_skb_pull_data makes 64 bytes linear; packet pointers are
# description: reloaded after the call and checked again before reading
r6 = r1
r2 = 64
call bpf_skb_pull_data#39
r2 = *(u32 *)(r6 +76)
r3 = *(u32 *)(r6 +80)
r4 = r2
r4 += 64
if r4 > r3 goto out
r0 = *(u32 *)(r2 +60)
out:
r0 = 0
exit
