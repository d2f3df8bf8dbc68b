# name: mapvar
# prog_type: socket_filter
# map: m type=array key=4 value=16 entries=4
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[m]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto l1
r6 = r0
call bpf_get_prandom_u32#7
r0 &= 12
r6 += r0
r0 = *(u32 *)(r6 +4)
l1:
r0 = 0
exit
