# name: reject_helper_negative_size
# prog_type: kprobe
# tags: helper, stack
# expect: reject
# expect_message: R2 min value is negative, either use unsigned or 'var &= const'
# description: bpf_probe_read_kernel with a size whose signed minimum is negative
# description: (bounded above only with a signed comparison)
r3 = *(u64 *)(r1 +112)
r2 = *(u64 *)(r1 +104)
if r2 s> 0x40 goto out
r1 = r10
r1 += -64
call bpf_probe_read_kernel#113
out:
r0 = 0
exit
