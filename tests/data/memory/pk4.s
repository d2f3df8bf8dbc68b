# name: pk4
# prog_type: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 > r3 goto l1
if r3 < r4 goto l1
r2 -= 4
r0 = *(u8 *)(r2 +0)
l1:
r0 = 0
exit
