# name: atomic_stack_cmpxchg
# prog_type: kprobe
# tags: atomic, stack, branch
# expect: accept
# description: 32- and 64-bit compare-and-exchange and fetch-or on stack slots;
# description: r0 carries the expected old value and receives the actual one
*(u64 *)(r10 -8) = 5
*(u32 *)(r10 -12) = 1
r0 = 5
r1 = 9
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)
if r0 != 0x5 goto out
w0 = 1
w2 = 3
r0 = atomic_cmpxchg((u32 *)(r10 -12), r0, r2)
r3 = 16
r3 = atomic64_fetch_or((u64 *)(r10 -8), r3)
out:
r0 = 0
exit
