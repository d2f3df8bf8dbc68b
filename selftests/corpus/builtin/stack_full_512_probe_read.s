# name: stack_full_512_probe_read
# prog_type: kprobe
# tags: stack, helper, ctx
# expect: accept
# description: bpf_probe_read_kernel fills the whole 512-byte stack in one call
# description: (uninitialized destination, constant size 512), then the first and
# description: last words are read back
r3 = *(u64 *)(r1 +112)
r1 = r10
r1 += -512
r2 = 512
call bpf_probe_read_kernel#113
r0 = *(u64 *)(r10 -512)
r1 = *(u64 *)(r10 -8)
r0 += r1
r0 = 0
exit
