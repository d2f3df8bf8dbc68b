# name: reject_pop_on_hash_map
# prog_type: socket_filter
# tags: map, helper
# expect: reject
# expect_message: cannot pass map_type 1 into func bpf_map_pop_elem#88
# map: h type=hash key=4 value=8 entries=4
# description: bpf_map_pop_elem on a hash map (only queue and stack maps pop)
r1 = map[h]
r2 = r10
r2 += -8
call bpf_map_pop_elem#88
r0 = 0
exit
