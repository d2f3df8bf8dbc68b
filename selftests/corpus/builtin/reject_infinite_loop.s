# name: reject_infinite_loop
# prog_type: socket_filter
# tags: loop, branch
# expect: reject
# expect_message: infinite loop detected at insn 2
# description: a loop whose exit condition never changes: the verifier sees the
# description: same state at the back-edge twice
r1 = *(u32 *)(r1 +0)
r0 = 0
loop:
if r1 != 0x0 goto loop
exit
