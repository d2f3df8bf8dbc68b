# name: reject_write_rdonly_prog_map
# prog_type: socket_filter
# tags: map, memory
# expect: reject
# expect_message: write into map forbidden, value_size=8 off=0 size=8
# map: cfg type=array key=4 value=8 entries=1 flags=0x80
# description: a store into the value of a map created with BPF_F_RDONLY_PROG
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[cfg]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
*(u64 *)(r0 +0) = 1
out:
r0 = 0
exit
