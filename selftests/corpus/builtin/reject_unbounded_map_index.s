# name: reject_unbounded_map_index
# prog_type: socket_filter
# tags: map, helper, memory
# expect: reject
# expect_message: R0 unbounded memory access, make sure to bounds check any such access
# map: table type=array key=4 value=64 entries=1
# description: adds an unchecked value from the packet length to a map value
# description: pointer and loads through it
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[table]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
r0 += r1
r0 = *(u8 *)(r0 +0)
out:
exit
