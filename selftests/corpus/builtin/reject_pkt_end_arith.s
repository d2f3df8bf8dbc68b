# name: reject_pkt_end_arith
# prog_type: xdp
# tags: packet, alu
# expect: reject
# expect_message: R3 pointer arithmetic on pkt_end prohibited
# description: arithmetic on data_end (to look a few bytes back from the end) is
# description: prohibited; only data pointers move
r3 = *(u32 *)(r1 +4)
r3 += -4
r0 = 2
exit
