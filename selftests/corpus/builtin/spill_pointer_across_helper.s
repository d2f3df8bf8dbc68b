# name: spill_pointer_across_helper
# prog_type: sched_cls
# tags: stack, ctx, helper
# expect: accept
# description: the context pointer and a map value pointer are spilled to the
# description: stack, survive a helper call that clobbers R1-R5, and are filled
# description: back and dereferenced
# map: vals type=array key=4 value=16 entries=1
*(u64 *)(r10 -8) = r1
*(u32 *)(r10 -12) = 0
r2 = r10
r2 += -12
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
*(u64 *)(r10 -24) = r0
call bpf_ktime_get_ns#5
r1 = *(u64 *)(r10 -8)
r2 = *(u32 *)(r1 +0)
r3 = *(u64 *)(r10 -24)
*(u64 *)(r3 +8) = r2
out:
r0 = 0
exit
