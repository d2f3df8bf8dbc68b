# name: reject_helper_unbounded_size
# prog_type: kprobe
# tags: helper, stack
# expect: reject
# expect_message: R2 unbounded memory access, use 'var &= const' or 'if (var < const)'
# description: bpf_probe_read_kernel with a size read from pt_regs and truncated
# description: to 32 bits: never negative, but not bounded either
r3 = *(u64 *)(r1 +112)
r2 = *(u64 *)(r1 +104)
r2 <<= 32
r2 >>= 32
r1 = r10
r1 += -64
call bpf_probe_read_kernel#113
r0 = 0
exit
