# name: reject_strict_alignment_pkt_load
# prog_type: xdp
# prog_flags: strict_alignment
# tags: packet, memory
# expect: reject
# expect_message: misaligned packet access off 2+0+0+0 size 4
# description: with BPF_F_STRICT_ALIGNMENT a 4-byte packet load at offset 0 is
# description: misaligned: the verifier assumes the packet starts 2 bytes past
# description: a 4-byte boundary (NET_IP_ALIGN)
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = *(u32 *)(r2 +0)
out:
r0 = 2
exit
