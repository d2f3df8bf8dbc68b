# name: loop_countdown_signed
# prog_type: socket_filter
# tags: loop, branch
# expect: accept
# description: a bounded loop counting down from 40 with a signed comparison
r0 = 0
r1 = 40
loop:
r0 += r1
r1 += -1
if r1 s> 0x0 goto loop
r0 &= 1
exit
