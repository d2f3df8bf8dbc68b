# name: reject_back_jump_infinite_subprog
# prog_type: socket_filter
# tags: loop, subprog
# expect: reject
# expect_message: infinite loop detected at insn 3
# description: a subprogram spinning in a loop that never changes its state
call f
exit
f:
r0 = 0
spin:
if r0 == 0x0 goto spin
exit
