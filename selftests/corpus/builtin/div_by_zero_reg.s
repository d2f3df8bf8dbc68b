# name: div_by_zero_reg
# prog_type: socket_filter
# tags: alu, alu32
# expect: accept
# description: division and modulo by a register holding zero are defined in BPF
# description: (the quotient is 0, the remainder the dividend) and are accepted
r0 = *(u32 *)(r1 +0)
r2 = 0
r0 /= r2
r3 = 17
r3 %= r2
w4 = 5
w4 /= w2
w5 = 9
w5 %= w2
r0 += r3
r0 += r4
r0 += r5
exit
