# name: kprobe_read_regs
# prog_type: kprobe
# tags: ctx, helper, stack
# expect: accept
# description: a kprobe reads argument registers from pt_regs and copies kernel
# description: memory onto the stack with bpf_probe_read_kernel (GPL only)
r6 = r1
r3 = *(u64 *)(r6 +112)
r1 = r10
r1 += -16
r2 = 16
call bpf_probe_read_kernel#113
r7 = *(u64 *)(r10 -16)
r8 = *(u64 *)(r10 -8)
call bpf_get_current_pid_tgid#14
r0 >>= 32
r9 = *(u64 *)(r6 +104)
r0 = 0
exit
