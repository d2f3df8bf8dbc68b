# name: reject_map_null_deref
# prog_type: socket_filter
# tags: map, helper
# expect: reject
# expect_message: R0 invalid mem access 'map_value_or_null'
# map: counts type=hash key=4 value=8 entries=16
# description: dereferences the result of bpf_map_lookup_elem without checking it
# description: for NULL
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[counts]
call bpf_map_lookup_elem#1
r0 = *(u64 *)(r0 +0)
exit
