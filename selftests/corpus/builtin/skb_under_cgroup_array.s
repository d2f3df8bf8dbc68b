# name: skb_under_cgroup_array
# prog_type: sched_cls
# tags: map, helper
# expect: accept
# map: cgroups type=cgroup_array key=4 value=4 entries=1
# description: a tc program tests whether the skb's socket belongs to the cgroup in
# description: slot 0 of a cgroup array
r2 = map[cgroups]
r3 = 0
call bpf_skb_under_cgroup#33
if r0 == 0x1 goto drop
r0 = 0
exit
drop:
r0 = 2
exit
