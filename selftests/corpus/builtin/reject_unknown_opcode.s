# name: reject_unknown_opcode
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: unknown opcode ff
# description: opcode 0xff is not an instruction
r0 = 0
.insn code=0xff dst=0 src=0 off=0 imm=0
exit
