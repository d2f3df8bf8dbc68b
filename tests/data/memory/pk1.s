# name: pk1
# prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 < r3 goto l1
r0 = 1
exit
l1:
r0 = *(u8 *)(r2 +8)
r5 = r2
r5 += 4
if r3 >= r5 goto l2
r0 = 2
exit
l2:
r0 = *(u32 *)(r2 +5)
if r3 <= r4 goto l3
r0 = *(u8 *)(r2 +9)
l3:
r0 = 0
exit
