# name: stack_spill_fill
# prog_type: socket_filter
# tags: stack, ctx, memory
# expect: accept
# description: a context pointer spilled to the stack and filled back keeps its
# description: type; scalars stored in two halves read back as one 64-bit value
*(u64 *)(r10 -8) = r1
r1 = 0
r2 = *(u64 *)(r10 -8)
r0 = *(u32 *)(r2 +0)
*(u32 *)(r10 -16) = r0
*(u32 *)(r10 -12) = 42
r3 = *(u64 *)(r10 -16)
r0 = r3
r0 >>= 32
exit
