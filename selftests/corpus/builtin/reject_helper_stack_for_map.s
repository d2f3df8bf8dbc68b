# name: reject_helper_stack_for_map
# prog_type: socket_filter
# tags: helper, map, stack
# expect: reject
# expect_message: R1 type=fp expected=map_ptr
# description: bpf_map_lookup_elem expects a map pointer in R1, given a stack
# description: pointer
*(u32 *)(r10 -4) = 0
r1 = r10
r1 += -8
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
r0 = 0
exit
