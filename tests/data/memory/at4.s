# name: at4
# prog_type: socket_filter
*(u64 *)(r10 -8) = r10
r2 = 1
r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)
lock *(u32 *)(r10 -8) |= r2
r0 = 0
exit
