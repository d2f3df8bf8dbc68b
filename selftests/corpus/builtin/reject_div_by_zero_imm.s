# name: reject_div_by_zero_imm
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: div by zero
# description: division by the immediate 0 is refused (by a register holding 0 it is not)
r0 = 10
r0 /= 0
exit
