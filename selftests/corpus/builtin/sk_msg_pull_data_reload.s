# name: sk_msg_pull_data_reload
# prog_type: sk_msg
# attach_type: sk_msg_verdict
# tags: packet, helper
# expect: accept
# description: bpf_msg_pull_data makes the first 8 bytes readable; the data
# description: pointers are reloaded after the call and proven again
r6 = r1
r2 = 0
r3 = 8
r4 = 0
call bpf_msg_pull_data#63
r2 = *(u64 *)(r6 +0)
r3 = *(u64 *)(r6 +8)
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = *(u64 *)(r2 +0)
out:
r0 = 1
exit
