# name: helper_bounded_size
# prog_type: kprobe
# tags: helper, stack, branch
# expect: accept
# description: bpf_probe_read_kernel with a variable size proven in [0, 64] by an
# description: unsigned comparison: the size argument may be zero
r3 = *(u64 *)(r1 +112)
r2 = *(u64 *)(r1 +104)
if r2 > 0x40 goto out
r1 = r10
r1 += -64
call bpf_probe_read_kernel#113
out:
r0 = 0
exit
