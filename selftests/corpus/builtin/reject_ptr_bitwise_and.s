# name: reject_ptr_bitwise_and
# prog_type: socket_filter
# tags: alu, memory
# expect: reject
# expect_message: R2 bitwise operator &= on pointer prohibited
# description: masking a stack pointer with AND (an alignment trick) is prohibited
r2 = r10
r2 += -16
r2 &= -8
r0 = 0
exit
