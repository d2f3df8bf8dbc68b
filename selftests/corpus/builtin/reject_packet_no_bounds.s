# name: reject_packet_no_bounds
# prog_type: xdp
# tags: packet, ctx
# expect: reject
# expect_message: R2 offset is outside of the packet
# description: reads the packet without first comparing against data_end
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r0 = *(u32 *)(r2 +0)
r0 = 2
exit
