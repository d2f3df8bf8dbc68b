# name: connect4_bind_helper
# prog_type: cgroup_sock_addr
# attach_type: cgroup_inet4_connect
# tags: helper, stack
# expect: accept
# description: a connect4 hook binds the socket to a source address first with
# description: bpf_bind, passing a 16-byte sockaddr_in built on the stack
*(u64 *)(r10 -16) = 2
*(u64 *)(r10 -8) = 0
r2 = r10
r2 += -16
r3 = 16
call bpf_bind#64
r0 = 1
exit
