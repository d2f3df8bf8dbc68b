# name: may_goto_nested
# prog_type: socket_filter
# tags: loop, branch
# expect: accept
# description: two nested open-ended loops, each left by may_goto when the shared
# description: run-time budget is spent
r0 = 0
outer:
may_goto out
r1 = 0
inner:
may_goto next
r1 += 1
r0 += r1
goto inner
next:
goto outer
out:
r0 &= 1
exit
