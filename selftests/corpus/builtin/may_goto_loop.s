# name: may_goto_loop
# prog_type: socket_filter
# tags: loop, branch
# expect: accept
# description: an open-ended loop made verifiable by may_goto, which leaves the
# description: loop when the run-time budget is spent
r0 = 0
loop:
may_goto pc+2
r0 += 1
goto loop
exit
