# name: map_value_direct_bss
# prog_type: socket_filter
# tags: map, memory, global
# expect: accept
# map: bss type=array key=4 value=32 entries=1
# description: global data: a direct reference to a .bss-like array value
# description: (BPF_PSEUDO_MAP_VALUE with offset 8), read, incremented and written
# description: without any lookup
r1 = map_value[bss]+8
r2 = *(u64 *)(r1 +0)
r2 += 1
*(u64 *)(r1 +0) = r2
r3 = *(u64 *)(r1 +16)
r0 = 0
exit
