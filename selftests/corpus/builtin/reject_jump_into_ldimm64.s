# name: reject_jump_into_ldimm64
# prog_type: socket_filter
# tags: branch
# expect: reject
# expect_message: jump into the middle of ldimm64 insn 2
# description: a jump whose target is the second half of a 16-byte ld_imm64
r1 = *(u32 *)(r1 +0)
if r1 == 0x0 goto pc+1
r0 = 0x100000000
r0 = 0
exit
