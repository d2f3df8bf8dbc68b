# name: st2
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r6 = r0
*(u32 *)(r10 -8) = r6
r6 = 0
*(u64 *)(r10 -16) = r6
*(u32 *)(r10 -16) = r0
*(u64 *)(r10 -24) = r1
r7 = *(u32 *)(r10 -24)
r0 = 0
exit
