# name: stackvar
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r0 &= 8
r1 = r10
r1 += -16
r1 += r0
r2 = 0
*(u64 *)(r1 +0) = r2
r3 = *(u64 *)(r1 +0)
r0 = *(u32 *)(r1 +4)
r0 = 0
exit
