# name: kfunc_preempt_nested
# prog_type: xdp
# tags: kfunc, loop
# expect: accept
# description: preemption disabled twice (bpf_preempt_disable nests and counts), a bounded
# description: loop inside, then enabled twice before the exit
call bpf_preempt_disable
call bpf_preempt_disable
r1 = 0
loop:
r1 += 1
if r1 < 0x8 goto loop
call bpf_preempt_enable
call bpf_preempt_enable
r0 = 2
exit
