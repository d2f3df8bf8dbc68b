# name: reject_map_value_direct_oob
# prog_type: socket_filter
# tags: map, memory, global
# expect: reject
# expect_message: R1 min value is outside of the allowed memory range
# map: bss type=array key=4 value=32 entries=1
# description: a direct map value reference at offset 24 of a 32-byte value, then a
# description: 16-byte window accessed from it: the last load runs past the end
r1 = map_value[bss]+24
r2 = *(u64 *)(r1 +8)
r0 = 0
exit
