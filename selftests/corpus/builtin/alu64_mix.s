# name: alu64_mix
# prog_type: socket_filter
# tags: alu
# expect: accept
# description: every 64-bit ALU operation with immediate and register operands
# description: on a value read from the context (skb->len)
r6 = r1
r0 = *(u32 *)(r6 +0)
r1 = 7
r0 += 3
r0 -= r1
r0 *= 5
r0 /= 3
r0 %= 100
r2 = r0
r2 <<= 4
r2 >>= 2
r2 |= 1
r2 &= 255
r2 ^= r0
r3 = -1
r3 s>>= 1
r3 = -r3
r4 = r2
r4 *= r3
r4 /= r1
r4 %= r1
r4 <<= r1
r4 >>= r1
r4 s>>= r1
r0 += r2
r0 -= r3
r0 |= r4
r0 &= 65535
exit
