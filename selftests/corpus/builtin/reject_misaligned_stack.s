# name: reject_misaligned_stack
# prog_type: socket_filter
# prog_flags: strict_alignment
# tags: stack, memory
# expect: reject
# expect_message: misaligned stack access off 0+0+-6 size 4
# description: with BPF_F_STRICT_ALIGNMENT a 4-byte store at fp-6 is misaligned
r1 = 1
*(u32 *)(r10 -6) = r1
r0 = 0
exit
