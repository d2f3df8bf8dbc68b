# name: movsx_sdiv
# prog_type: socket_filter
# tags: alu, alu32, stack
# expect: accept
# description: v4 instruction set: sign-extending moves and loads, signed
# description: division and modulo
r2 = *(u32 *)(r1 +0)
r3 = (s8)r2
r4 = (s16)r2
r5 = (s32)r2
w6 = (s8)w2
w7 = (s16)w2
r3 s/= 3
r4 s%= -7
w6 s/= w7
w7 s%= w6
*(u64 *)(r10 -8) = r2
r8 = *(s8 *)(r10 -8)
r9 = *(s16 *)(r10 -6)
r0 = *(s32 *)(r10 -4)
r0 += r3
r0 += r4
r0 += r5
r0 += r6
r0 += r7
r0 += r8
r0 += r9
r0 &= 65535
exit
