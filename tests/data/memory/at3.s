# name: at3
# prog_type: socket_filter
r2 = 1
*(u64 *)(r10 -8) = r2
lock *(u32 *)(r10 -6) += r2
r0 = 0
exit
