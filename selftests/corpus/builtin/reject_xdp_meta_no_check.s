# name: reject_xdp_meta_no_check
# prog_type: xdp
# tags: packet, ctx
# expect: reject
# expect_message: R2 offset is outside of the packet
# description: a write through data_meta without proving it is before data
r2 = *(u32 *)(r1 +8)
*(u32 *)(r2 +0) = 42
r0 = 2
exit
