# name: endian_bswap
# prog_type: sched_cls
# tags: alu
# expect: accept
# description: byte-order conversions: to big/little endian (be/le) and the
# description: unconditional byte swaps (bswap) of the v4 instruction set
r2 = *(u32 *)(r1 +16)
r2 = be16 r2
r3 = *(u32 *)(r1 +8)
r3 = le32 r3
r4 = *(u32 *)(r1 +0)
r4 = be64 r4
r4 = bswap32 r4
r5 = r4
r5 = bswap64 r5
r5 = bswap16 r5
r0 = r2
r0 ^= r3
r0 ^= r5
r0 &= 1
exit
