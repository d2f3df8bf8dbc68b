# name: strict_alignment_ok
# prog_type: socket_filter
# prog_flags: strict_alignment
# tags: stack, memory
# expect: accept
# description: with BPF_F_STRICT_ALIGNMENT every stack access is naturally aligned
*(u64 *)(r10 -8) = 0
*(u32 *)(r10 -12) = 1
*(u16 *)(r10 -14) = 2
*(u8 *)(r10 -15) = 3
*(u8 *)(r10 -16) = 4
r0 = *(u64 *)(r10 -8)
r1 = *(u32 *)(r10 -12)
r2 = *(u16 *)(r10 -14)
r0 += r1
r0 += r2
exit
