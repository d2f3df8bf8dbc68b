# name: atomics_map_value_32
# prog_type: tracepoint
# tags: atomic, map
# expect: accept
# map: stats type=array key=4 value=16 entries=4
# description: 32-bit atomic fetch-and, fetch-xor, xchg and cmpxchg on the words of
# description: a map value
*(u32 *)(r10 -4) = 1
r2 = r10
r2 += -4
r1 = map[stats]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r6 = r0
r1 = 255
r1 = atomic_fetch_and((u32 *)(r6 +0), r1)
r2 = 15
r2 = atomic_fetch_xor((u32 *)(r6 +4), r2)
r3 = 1
r3 = atomic_xchg((u32 *)(r6 +8), r3)
w0 = 0
r4 = 2
r0 = atomic_cmpxchg((u32 *)(r6 +12), r0, r4)
out:
r0 = 0
exit
