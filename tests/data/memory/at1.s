# name: at1
# prog_type: socket_filter
r1 = 5
*(u64 *)(r10 -8) = r1
r2 = 3
lock *(u64 *)(r10 -8) += r2
r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)
r0 = 7
*(u32 *)(r10 -16) = r0
r0 = atomic_cmpxchg((u32 *)(r10 -16), r0, r2)
r3 = atomic64_xchg((u64 *)(r10 -8), r3)
exit
