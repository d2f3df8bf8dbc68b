# name: ln1
# prog_type: socket_filter
call bpf_get_prandom_u32#7
r1 = r0
r2 = r0
r2 += 4
w3 = w0
r3 += 2
if r1 > 10 goto l1
r0 = r2
r0 += r3
l1:
r0 = 0
exit
