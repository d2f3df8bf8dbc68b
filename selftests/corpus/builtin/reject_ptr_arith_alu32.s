# name: reject_ptr_arith_alu32
# prog_type: socket_filter
# tags: alu32, stack
# expect: reject
# expect_message: R1 32-bit pointer arithmetic prohibited
# description: 32-bit arithmetic on a pointer (the frame pointer copy in r1)
r1 = r10
w1 += -8
r0 = 0
exit
