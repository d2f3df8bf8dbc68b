# name: get_stackid_kprobe
# prog_type: kprobe
# tags: map, helper
# expect: accept
# map: stacks type=stack_trace key=4 value=64 entries=128
# map: counts type=hash key=4 value=8 entries=128
# description: a kprobe records its kernel stack in a stack-trace map and counts
# description: hits per stack id in a hash map
r6 = r1
r1 = r6
r2 = map[stacks]
r3 = 0
call bpf_get_stackid#27
if r0 s< 0x0 goto out
*(u32 *)(r10 -4) = r0
*(u64 *)(r10 -16) = 1
r1 = map[counts]
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem#2
out:
r0 = 0
exit
