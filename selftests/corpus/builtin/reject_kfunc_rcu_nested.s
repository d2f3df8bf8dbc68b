# name: reject_kfunc_rcu_nested
# prog_type: socket_filter
# tags: kfunc
# expect: reject
# expect_message: nested rcu read lock (kernel function bpf_rcu_read_lock)
# description: bpf_rcu_read_lock inside an RCU section: the verifier does not nest them
call bpf_rcu_read_lock
call bpf_rcu_read_lock
call bpf_rcu_read_unlock
call bpf_rcu_read_unlock
r0 = 0
exit
