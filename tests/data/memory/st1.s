# name: st1
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r6 = r0
r6 &= 0xff
*(u64 *)(r10 -8) = r6
*(u32 *)(r10 -16) = r6
*(u16 *)(r10 -24) = r6
r1 = *(u32 *)(r10 -8)
r2 = *(u64 *)(r10 -8)
r3 = *(u32 *)(r10 -16)
r4 = *(u8 *)(r10 -16)
r5 = *(u16 *)(r10 -14)
*(u64 *)(r10 -32) = r0
r7 = *(u32 *)(r10 -32)
*(u64 *)(r10 -40) = r10
*(u8 *)(r10 -40) = r6
r0 = 0
exit
