# name: kfunc_rcu_conditional
# prog_type: sched_cls
# tags: kfunc, branch
# expect: accept
# description: the RCU section is opened and closed under the same condition: the two paths
# description: reach the join with different RCU states, which pruning must keep apart
r6 = *(u32 *)(r1 +0)
if r6 == 0x0 goto skip_lock
call bpf_rcu_read_lock
skip_lock:
r7 = 1
if r6 == 0x0 goto skip_unlock
call bpf_rcu_read_unlock
skip_unlock:
r0 = 0
exit
