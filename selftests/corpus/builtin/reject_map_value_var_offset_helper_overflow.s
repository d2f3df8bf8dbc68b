# name: reject_map_value_var_offset_helper_overflow
# prog_type: kprobe
# tags: map, helper, memory
# expect: reject
# expect_message: R1 max value is outside of the allowed memory range
# map: buf type=array key=4 value=128 entries=1
# description: as map_value_var_offset_helper_dst but the variable offset reaches
# description: 72: a 64-byte write from there runs past the 128-byte value
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[buf]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u64 *)(r6 +104)
r1 &= 72
r0 += r1
r1 = r0
r2 = 64
r3 = *(u64 *)(r6 +112)
call bpf_probe_read_kernel#113
out:
r0 = 0
exit
