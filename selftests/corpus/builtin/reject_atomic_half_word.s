# name: reject_atomic_half_word
# prog_type: socket_filter
# tags: atomic, stack
# expect: reject
# expect_message: invalid atomic operand size
# description: an atomic add of 16-bit width (encoded by hand): only 32- and 64-bit
# description: read-modify-write atomics exist
*(u64 *)(r10 -8) = 0
r1 = 1
.insn code=0xcb dst=10 src=1 off=-8 imm=0
r0 = 0
exit
