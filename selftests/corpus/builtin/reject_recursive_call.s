# name: reject_recursive_call
# prog_type: socket_filter
# tags: subprog, loop
# expect: reject
# expect_message: the call stack of 8 frames is too deep !
# description: a subprogram that calls itself: the control-flow check finds the
# description: back-edge before any path is explored
r1 = 3
call rec
exit
rec:
if r1 == 0x0 goto done
r1 += -1
call rec
done:
r0 = 0
exit
