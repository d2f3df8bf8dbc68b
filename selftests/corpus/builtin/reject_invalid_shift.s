# name: reject_invalid_shift
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: invalid shift 64
# description: shifts a 64-bit register by 64
r0 = 1
r0 <<= 64
exit
