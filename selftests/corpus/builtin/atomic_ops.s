# name: atomic_ops
# prog_type: sched_cls
# tags: atomic, map, helper
# expect: accept
# map: counters type=array key=4 value=16 entries=1
# description: atomic operations on a map value: add, or, and, xor (with and
# description: without fetch), exchange and compare-and-exchange, 32 and 64 bit
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[counters]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r6 = r0
r1 = 1
lock *(u64 *)(r6 +0) += r1
r2 = 2
r2 = atomic64_fetch_add((u64 *)(r6 +0), r2)
r3 = 255
lock *(u32 *)(r6 +8) |= r3
r3 = 15
lock *(u32 *)(r6 +8) &= r3
lock *(u32 *)(r6 +12) ^= r3
r4 = 7
r4 = atomic_fetch_xor((u32 *)(r6 +12), r4)
r0 = 0
r5 = 9
r0 = atomic64_cmpxchg((u64 *)(r6 +0), r0, r5)
r5 = atomic64_xchg((u64 *)(r6 +0), r5)
out:
r0 = 0
exit
