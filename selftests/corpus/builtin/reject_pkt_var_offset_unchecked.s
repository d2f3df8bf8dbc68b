# name: reject_pkt_var_offset_unchecked
# prog_type: xdp
# tags: packet, alu
# expect: reject
# expect_message: R2 offset is outside of the packet
# description: the pointer is advanced by a variable header length after the
# description: bounds check: the proven range does not cover the new offset
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 64
if r4 > r3 goto out
r5 = *(u8 *)(r2 +0)
r5 &= 60
r2 += r5
r0 = *(u64 *)(r2 +0)
out:
r0 = 2
exit
