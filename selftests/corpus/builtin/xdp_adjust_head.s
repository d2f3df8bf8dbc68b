# name: xdp_adjust_head
# prog_type: xdp
# tags: packet, helper, ctx, branch
# expect: accept
# description: bpf_xdp_adjust_head invalidates packet pointers: data and
# description: data_end are read again and checked before the header is touched
r6 = r1
r2 = -14
call bpf_xdp_adjust_head#44
if r0 != 0x0 goto drop
r2 = *(u32 *)(r6 +0)
r3 = *(u32 *)(r6 +4)
r4 = r2
r4 += 14
if r4 > r3 goto drop
r5 = *(u16 *)(r2 +12)
*(u16 *)(r2 +0) = r5
*(u32 *)(r2 +2) = 0
r0 = 2
exit
drop:
r0 = 1
exit
