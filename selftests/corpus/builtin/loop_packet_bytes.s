# name: loop_packet_bytes
# prog_type: xdp
# tags: loop, packet
# expect: accept
# description: a bounded loop over up to 64 packet bytes, proving each byte against
# description: data_end inside the loop
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r0 = 0
r5 = 0
loop:
r4 = r2
r4 += 1
if r4 > r3 goto done
r6 = *(u8 *)(r2 +0)
r0 += r6
r2 += 1
r5 += 1
if r5 < 64 goto loop
done:
r0 &= 1
r0 += 1
exit
