# name: probe_read_str_len_index
# prog_type: kprobe
# tags: helper, stack, map
# expect: accept
# map: hist type=array key=4 value=8 entries=33
# description: the length returned by bpf_probe_read_kernel_str is at most its
# description: size argument: used, after a sign check, as a histogram key
r3 = *(u64 *)(r1 +112)
r1 = r10
r1 += -32
r2 = 32
call bpf_probe_read_kernel_str#115
if r0 s< 0x0 goto out
*(u32 *)(r10 -36) = r0
r2 = r10
r2 += -36
r1 = map[hist]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = 1
lock *(u64 *)(r0 +0) += r1
out:
r0 = 0
exit
