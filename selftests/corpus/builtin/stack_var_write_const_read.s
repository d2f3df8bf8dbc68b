# name: stack_var_write_const_read
# prog_type: socket_filter
# tags: stack, memory
# expect: accept
# description: a byte written at a variable stack offset in [-16, -9], then the
# description: whole slot read at a constant offset (privileged: allowed)
r2 = *(u32 *)(r1 +0)
r2 &= 7
r3 = r10
r3 += -16
r3 += r2
r4 = 1
*(u8 *)(r3 +0) = r4
r0 = *(u64 *)(r10 -16)
r0 &= 1
exit
