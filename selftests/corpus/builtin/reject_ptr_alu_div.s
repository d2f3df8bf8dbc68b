# name: reject_ptr_alu_div
# prog_type: socket_filter
# tags: alu, memory
# expect: reject
# expect_message: R2 pointer arithmetic with /= operator prohibited
# description: dividing a stack pointer
r2 = r10
r2 /= 2
r0 = 0
exit
