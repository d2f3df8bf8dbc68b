# name: reject_stack_ptr_sub_scalar
# prog_type: socket_filter
# tags: stack, memory
# expect: reject
# expect_message: R2 subtraction from stack pointer prohibited
# description: subtracting an unknown scalar from a stack pointer (adding its
# description: negation would be allowed; the subtraction itself is refused)
r1 = *(u32 *)(r1 +0)
r1 &= 511
r2 = r10
r2 += -8
r2 -= r1
*(u8 *)(r2 +0) = 0
r0 = 0
exit
