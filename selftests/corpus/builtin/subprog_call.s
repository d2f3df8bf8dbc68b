# name: subprog_call
# prog_type: sched_cls
# tags: subprog, stack
# expect: accept
# description: two bpf-to-bpf calls: one computes from its arguments using its
# description: own stack frame, the other writes through a pointer into the
# description: caller's stack
r6 = r1
r1 = *(u32 *)(r6 +0)
r2 = 3
call add_scaled
r7 = r0
*(u64 *)(r10 -8) = 0
r1 = r10
r1 += -8
call fill
r0 = *(u64 *)(r10 -8)
r0 += r7
r0 &= 1
exit
add_scaled:
*(u64 *)(r10 -8) = r1
r1 *= r2
r0 = *(u64 *)(r10 -8)
r0 += r1
exit
fill:
r2 = 42
*(u64 *)(r1 +0) = r2
r0 = 0
exit
