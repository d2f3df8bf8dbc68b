# name: st3
# prog_type: socket_filter
*(u64 *)(r10 -8) = r1
*(u32 *)(r10 -8) = r1
r0 = 0
exit
