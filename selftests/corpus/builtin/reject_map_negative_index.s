# name: reject_map_negative_index
# prog_type: socket_filter
# tags: map, helper, memory, branch
# expect: reject
# expect_message: value -2147483648 makes map_value pointer be out of bounds
# map: table type=array key=4 value=64 entries=1
# description: an index checked only from above (signed) may be negative
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[table]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
r1 = (s32)r1
if r1 s> 0x38 goto out
r0 += r1
r0 = *(u64 *)(r0 +0)
out:
exit
