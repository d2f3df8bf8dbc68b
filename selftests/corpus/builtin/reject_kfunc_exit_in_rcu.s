# name: reject_kfunc_exit_in_rcu
# prog_type: sched_cls
# tags: kfunc, branch
# expect: reject
# expect_message: BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region
# description: one path leaves the program while the RCU read-side section is still open
r6 = *(u32 *)(r1 +0)
call bpf_rcu_read_lock
if r6 > 0x40 goto out
call bpf_rcu_read_unlock
out:
r0 = 0
exit
