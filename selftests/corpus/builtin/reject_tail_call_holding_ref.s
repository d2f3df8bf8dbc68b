# name: reject_tail_call_holding_ref
# prog_type: sched_cls
# tags: reference, helper, map
# expect: reject
# expect_message: tail_call would lead to reference leak
# map: jmp type=prog_array key=4 value=4 entries=4
# description: a tail call while a socket reference is held: the callee cannot
# description: release it
r6 = r1
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0x0 goto out
r7 = r0
r1 = r6
r2 = map[jmp]
r3 = 0
call bpf_tail_call#12
r1 = r7
call bpf_sk_release#86
out:
r0 = 0
exit
