# name: call_chain_8_frames
# prog_type: socket_filter
# tags: subprog, stack
# expect: accept
# description: main and seven nested bpf-to-bpf calls, eight frames at once (the
# description: deepest chain the kernel allows), each passing its argument on
r1 = 1
call f1
exit
f1:
r1 += 1
call f2
exit
f2:
r1 += 1
call f3
exit
f3:
r1 += 1
call f4
exit
f4:
r1 += 1
call f5
exit
f5:
r1 += 1
call f6
exit
f6:
r1 += 1
call f7
exit
f7:
r0 = r1
r0 &= 1
exit
