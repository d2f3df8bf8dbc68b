# name: reject_rodata_write
# prog_type: socket_filter
# tags: map, memory
# expect: reject
# expect_message: write into map forbidden, value_size=8 off=0 size=8
# map: rodata type=array key=4 value=8 entries=1 flags=0x80 frozen init=0500000000000000
# description: writes into a map the program may only read (BPF_F_RDONLY_PROG, .rodata)
r1 = map_value[rodata]+0
r2 = 1
*(u64 *)(r1 +0) = r2
r0 = 0
exit
