# name: reject_reserved_field_alu
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: BPF_ALU uses reserved fields
# description: an ALU64 add-immediate encoded with a non-zero source register
# description: field: the kernel checks reserved fields
r0 = 0
.insn code=0x07 dst=0 src=1 off=0 imm=1
exit
