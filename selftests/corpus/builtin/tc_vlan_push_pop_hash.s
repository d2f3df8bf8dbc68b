# name: tc_vlan_push_pop_hash
# prog_type: sched_cls
# tags: helper, packet
# expect: accept
# description: bpf_skb_vlan_push then bpf_skb_vlan_pop, then bpf_set_hash and
# description: bpf_get_hash_recalc: helpers that change the packet
r6 = r1
r1 = r6
r2 = 129
r3 = 100
call bpf_skb_vlan_push#18
r1 = r6
call bpf_skb_vlan_pop#19
r1 = r6
r2 = 12345
call bpf_set_hash#48
r1 = r6
call bpf_get_hash_recalc#34
r0 = 0
exit
