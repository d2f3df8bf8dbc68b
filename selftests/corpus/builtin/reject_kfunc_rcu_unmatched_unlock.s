# name: reject_kfunc_rcu_unmatched_unlock
# prog_type: socket_filter
# tags: kfunc
# expect: reject
# expect_message: unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)
# description: bpf_rcu_read_unlock without a bpf_rcu_read_lock before it
call bpf_rcu_read_unlock
r0 = 0
exit
