# name: reject_loop_no_progress_may_goto_missing
# prog_type: socket_filter
# tags: loop, branch
# expect: reject
# expect_message: infinite loop detected at insn 2
# description: a loop whose exit depends on an unknown that never changes inside
# description: it: the same state recurs at the loop head
r1 = *(u32 *)(r1 +0)
r0 = 0
loop:
r0 = 1
if r1 != 0x5 goto loop
exit
