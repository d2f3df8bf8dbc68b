# name: reject_jump_out_of_range
# prog_type: socket_filter
# tags: branch
# expect: reject
# expect_message: jump out of range from insn 1 to 12
# description: a jump whose target lies past the end of the program
r0 = 0
if r0 == 0x0 goto pc+10
exit
