# name: pk2
# prog_type: sched_cls
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r6 = *(u32 *)(r1 +140)
r4 = r6
r4 += 4
if r4 > r2 goto l1
r0 = *(u32 *)(r6 +0)
*(u32 *)(r6 +0) = r0
r7 = r2
r7 += 14
if r7 > r3 goto l1
r0 = *(u8 *)(r2 +12)
r0 &= 7
r8 = r2
r8 += r0
r9 = r8
r9 += 2
if r9 > r3 goto l1
r0 = *(u16 *)(r8 +0)
*(u8 *)(r8 +1) = r0
r0 = *(u16 *)(r8 +1)
l1:
r0 = 0
exit
