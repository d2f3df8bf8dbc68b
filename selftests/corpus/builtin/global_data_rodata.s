# name: global_data_rodata
# prog_type: socket_filter
# tags: map, memory, branch
# expect: accept
# map: rodata type=array key=4 value=16 entries=1 flags=0x80 frozen init=0100000007000000ffffffff00000000
# map: bss type=array key=4 value=8 entries=1
# description: global data: direct map-value addresses (no lookup); a read from
# description: a frozen read-only map is a known constant, so the branch on it
# description: is decided and the uninitialized register read behind it is
# description: never reached
r1 = map_value[rodata]+4
r2 = *(u32 *)(r1 +0)
if r2 != 0x7 goto impossible
r3 = map_value[bss]+0
r4 = *(u64 *)(r3 +0)
r4 += r2
*(u64 *)(r3 +0) = r4
r0 = 0
exit
impossible:
r0 = r9
exit
