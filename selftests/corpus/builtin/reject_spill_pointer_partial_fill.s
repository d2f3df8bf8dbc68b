# name: reject_spill_pointer_partial_fill
# prog_type: socket_filter
# tags: stack, memory
# expect: reject
# expect_message: invalid size of register fill
# description: the context pointer spilled as 64 bits and then filled back through
# description: a 32-bit load: half of a pointer is not a pointer, and dereferencing
# description: it fails
*(u64 *)(r10 -8) = r1
r2 = *(u32 *)(r10 -8)
r0 = *(u32 *)(r2 +0)
exit
