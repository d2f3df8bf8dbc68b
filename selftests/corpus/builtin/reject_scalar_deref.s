# name: reject_scalar_deref
# prog_type: kprobe
# tags: memory, ctx
# expect: reject
# expect_message: R1 invalid mem access 'scalar'
# description: dereferences a number read from pt_regs as if it were a pointer
# description: (kernel memory must be read with bpf_probe_read_kernel)
r1 = *(u64 *)(r1 +112)
r0 = *(u64 *)(r1 +0)
exit
