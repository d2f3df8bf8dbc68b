# name: atomics_on_stack
# prog_type: socket_filter
# tags: atomic, stack
# expect: accept
# description: atomic add, or, xchg and compare-and-exchange on stack slots, 64- and
# description: 32-bit, and the fetched old values read back
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 5
r1 = 7
lock *(u64 *)(r10 -8) += r1
r2 = 3
r2 = atomic_fetch_or((u32 *)(r10 -16), r2)
r3 = 11
r3 = atomic64_xchg((u64 *)(r10 -8), r3)
r0 = 11
r4 = 99
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r4)
r0 += r2
r0 += r3
r0 &= 1
exit
