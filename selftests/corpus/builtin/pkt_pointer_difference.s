# name: pkt_pointer_difference
# prog_type: xdp
# tags: packet, alu
# expect: accept
# description: subtracting two packet pointers gives a scalar (the frame length),
# description: allowed and then used arithmetically
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r3 -= r2
r0 = r3
r0 &= 1
r0 += 1
exit
