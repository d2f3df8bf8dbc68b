# name: raw_tp_arg_probe_read
# prog_type: raw_tracepoint
# tags: ctx, helper, stack
# expect: accept
# description: a raw tracepoint reads its first argument (a kernel pointer) and
# description: copies 32 bytes behind it with bpf_probe_read_kernel
r3 = *(u64 *)(r1 +0)
r1 = r10
r1 += -32
r2 = 32
call bpf_probe_read_kernel#113
r0 = *(u64 *)(r10 -32)
r0 = 0
exit
