# name: reject_map_value_oob
# prog_type: socket_filter
# tags: map, helper, memory
# expect: reject
# expect_message: R0 min value is outside of the allowed memory range
# map: counts type=hash key=4 value=8 entries=16
# description: reads 4 bytes at offset 8 of an 8-byte map value
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[counts]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r0 = *(u32 *)(r0 +8)
out:
exit
