# name: kfunc_rcu_read_section
# prog_type: socket_filter
# tags: kfunc, map, helper
# expect: accept
# map: counters type=array key=4 value=8 entries=4
# description: a map update inside an RCU read-side section opened and closed with the
# description: bpf_rcu_read_lock/bpf_rcu_read_unlock kfuncs (kfunc calls: src 2, the kernel's BTF id)
r6 = r1
call bpf_rcu_read_lock
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[counters]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = 1
lock *(u64 *)(r0 +0) += r1
out:
call bpf_rcu_read_unlock
r0 = 0
exit
