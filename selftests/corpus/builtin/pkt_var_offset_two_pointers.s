# name: pkt_var_offset_two_pointers
# prog_type: xdp
# tags: packet, alu, branch
# expect: accept
# description: a packet pointer advanced by a variable header length is checked
# description: against data_end through a copy; the original pointer then reads
# description: the bytes the copy proved
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 1
if r4 > r3 goto out
r5 = *(u8 *)(r2 +0)
r5 &= 60
r2 += r5
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = *(u64 *)(r2 +0)
out:
r0 = 2
exit
