# name: reject_pkt_offset_too_large
# prog_type: xdp
# tags: packet, alu
# expect: reject
# expect_message: R2 offset is outside of the packet
# description: a constant of 65536 added to a packet pointer: beyond the largest
# description: packet offset the verifier tracks
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r2 += 65536
r4 = r2
r4 += 1
if r4 > r3 goto out
r0 = *(u8 *)(r2 +0)
out:
r0 = 2
exit
