# name: reject_kfunc_preempt_unmatched
# prog_type: xdp
# tags: kfunc
# expect: reject
# expect_message: unmatched attempt to enable preemption (kernel function bpf_preempt_enable)
# description: preemption enabled twice after being disabled once
call bpf_preempt_disable
call bpf_preempt_enable
call bpf_preempt_enable
r0 = 2
exit
