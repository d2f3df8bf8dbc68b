# name: reject_kfunc_exit_preempt_disabled
# prog_type: kprobe
# tags: kfunc
# expect: reject
# expect_message: BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region
# description: a kprobe program exits with preemption still disabled
call bpf_preempt_disable
r0 = 0
exit
