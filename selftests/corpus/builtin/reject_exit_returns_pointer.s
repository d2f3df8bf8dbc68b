# name: reject_exit_returns_pointer
# prog_type: cgroup_skb
# attach_type: cgroup_inet_ingress
# tags: retval
# expect: reject
# expect_message: At program exit the register R0 is not a known value (fp)
# description: a cgroup skb program returns the stack pointer instead of a verdict
r0 = r10
exit
