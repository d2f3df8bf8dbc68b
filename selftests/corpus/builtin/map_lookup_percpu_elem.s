# name: map_lookup_percpu_elem
# prog_type: kprobe
# tags: map, helper
# expect: accept
# map: pc type=percpu_array key=4 value=8 entries=1
# description: bpf_map_lookup_percpu_elem reads CPU 0's copy of a per-CPU counter
*(u32 *)(r10 -4) = 0
r1 = map[pc]
r2 = r10
r2 += -4
r3 = 0
call bpf_map_lookup_percpu_elem#195
if r0 == 0x0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
