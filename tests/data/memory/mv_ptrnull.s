# name: mv_ptrnull
# prog_type: socket_filter
# map: h type=hash key=4 value=16 entries=4
# description: comparing a maybe-null pointer with a not-null one: the equal branch knows that
# description: register is not null (only that register; its copies stay maybe-null)
r2 = r10
r2 += -4
*(u32 *)(r10 -4) = 0
r1 = map[h]
call bpf_map_lookup_elem#1
r6 = r0
r7 = r0
r8 = r10
if r8 != r6 goto out
r0 = *(u64 *)(r6 +0)
if r7 == 0x0 goto out
r0 = *(u64 *)(r7 +8)
out:
r0 = 0
exit
