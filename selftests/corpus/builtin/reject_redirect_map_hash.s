# name: reject_redirect_map_hash
# prog_type: xdp
# tags: map, helper
# expect: reject
# expect_message: cannot pass map_type 1 into func bpf_redirect_map#51
# map: h type=hash key=4 value=4 entries=4
# description: bpf_redirect_map into a hash map instead of a devmap/cpumap/xskmap
r1 = map[h]
r2 = 0
r3 = 0
call bpf_redirect_map#51
exit
