# name: reject_lwt_out_write_packet
# prog_type: lwt_out
# tags: packet
# expect: reject
# expect_message: cannot write into packet
# description: an lwt output program writes packet data: lwt_out may only read
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 1
if r4 > r3 goto out
*(u8 *)(r2 +0) = 0
out:
r0 = 0
exit
