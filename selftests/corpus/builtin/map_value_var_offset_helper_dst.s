# name: map_value_var_offset_helper_dst
# prog_type: kprobe
# tags: map, helper, memory
# expect: accept
# map: buf type=array key=4 value=128 entries=1
# description: bpf_probe_read_kernel writes 64 bytes into a map value at a variable
# description: offset in [0, 64]: the whole window fits in the 128-byte value
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[buf]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u64 *)(r6 +104)
r1 &= 64
r0 += r1
r1 = r0
r2 = 64
r3 = *(u64 *)(r6 +112)
call bpf_probe_read_kernel#113
out:
r0 = 0
exit
