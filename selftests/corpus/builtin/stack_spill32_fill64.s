# name: stack_spill32_fill64
# prog_type: socket_filter
# tags: stack, memory
# expect: accept
# description: a 32-bit scalar spilled into half a slot and the whole 8-byte slot
# description: filled back: the fill is an unknown scalar, not the spilled value
r1 = *(u32 *)(r1 +0)
*(u64 *)(r10 -8) = 0
*(u32 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
r0 &= 1
exit
