# name: ln2
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r0 &= 0xff
r1 = r0
r1 += 4
*(u64 *)(r10 -8) = r1
r2 = r1
if r2 < 10 goto l1
r0 = r1
l1:
r0 = 0
exit
