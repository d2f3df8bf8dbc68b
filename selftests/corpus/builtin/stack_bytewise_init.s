# name: stack_bytewise_init
# prog_type: socket_filter
# tags: stack, memory
# expect: accept
# description: a stack slot initialized one byte at a time, then read whole, and
# description: a word read across two half-word stores (stack accesses must be
# description: aligned even without BPF_F_STRICT_ALIGNMENT)
*(u8 *)(r10 -1) = 1
*(u8 *)(r10 -2) = 2
*(u8 *)(r10 -3) = 3
*(u8 *)(r10 -4) = 4
*(u8 *)(r10 -5) = 5
*(u8 *)(r10 -6) = 6
*(u8 *)(r10 -7) = 7
*(u8 *)(r10 -8) = 8
r0 = *(u64 *)(r10 -8)
*(u16 *)(r10 -10) = 258
*(u16 *)(r10 -12) = 772
r1 = *(u16 *)(r10 -10)
r2 = *(u32 *)(r10 -12)
r0 += r1
r0 += r2
exit
