# name: alu32_zext
# prog_type: socket_filter
# tags: alu32, branch
# expect: accept
# description: 32-bit ALU operations zero the upper half of the register; the
# description: verifier must know it, or the branch to the uninitialized
# description: register read below looks reachable
r0 = *(u32 *)(r1 +0)
w0 += 10
w1 = -1
w1 *= w0
w2 = w0
w2 <<= 28
w2 s>>= 4
w3 = w2
w3 /= 7
w3 %= 13
w0 ^= w3
w0 = -w0
w0 |= w1
r1 = r0
r1 >>= 32
if r1 != 0x0 goto impossible
w0 &= 1
exit
impossible:
r0 = r9
exit
