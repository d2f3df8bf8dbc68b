# name: mv_strict
# prog_type: xdp
# prog_flags: strict_alignment
# map: data type=array key=4 value=16 entries=1
# description: strict alignment: packet accesses checked as if the packet started 2 bytes past
# description: alignment (NET_IP_ALIGN), map value and stack accesses naturally aligned
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 16
if r4 > r3 goto out
r0 = *(u16 *)(r2 +0)
r0 = *(u32 *)(r2 +2)
r0 = *(u64 *)(r2 +6)
r5 = map_value[data]+8
r6 = *(u64 *)(r5 +0)
*(u32 *)(r5 -4) = r6
r0 = *(u32 *)(r2 +0)
out:
r0 = 2
exit
