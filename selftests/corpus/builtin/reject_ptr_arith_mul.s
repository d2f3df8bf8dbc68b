# name: reject_ptr_arith_mul
# prog_type: socket_filter
# tags: alu, ctx
# expect: reject
# expect_message: R1 pointer arithmetic with *= operator prohibited
# description: multiplies a pointer: only addition and subtraction are allowed on pointers
r1 *= 2
r0 = 0
exit
