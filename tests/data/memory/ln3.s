# name: lnk
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r0 &= 0xff
r1 = r0
r1 += 4
if r0 > 10 goto l
r0 = r1
l:
r0 = 0
exit
