# name: reject_bad_return_value
# prog_type: cgroup_skb
# attach_type: cgroup_inet_ingress
# tags: ctx
# expect: reject
# expect_message: At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]
# description: a cgroup skb program must return 0 (drop) or 1 (allow); this returns 5
r0 = 5
exit
