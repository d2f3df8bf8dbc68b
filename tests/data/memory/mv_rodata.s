# name: mv_rodata
# prog_type: socket_filter
# map: rodata type=array key=4 value=16 entries=1 flags=0x80 frozen init=0100000007000000f0ffffff80
# map: data type=array key=4 value=16 entries=1
# description: global data: constants read from a frozen read-only map (plain, sign-extending,
# description: variable offset), a branch they decide, stores and an atomic into a writable map
r1 = map_value[rodata]+4
r2 = *(u32 *)(r1 +0)
if r2 != 0x7 goto bad
r3 = *(s8 *)(r1 +4)
r4 = *(s16 *)(r1 +4)
r5 = *(u8 *)(r1 +8)
r6 = *(u64 *)(r1 -4)
r7 = map_value[data]+0
*(u64 *)(r7 +8) = r3
r0 = 1
lock *(u64 *)(r7 +0) += r0
call bpf_get_prandom_u32#7
r0 &= 4
r1 = map_value[rodata]+0
r1 += r0
r2 = *(u32 *)(r1 +0)
r0 = load_acquire((u32 *)(r7 +4))
store_release((u16 *)(r7 +2), r2)
r0 = 0
exit
bad:
r0 = r9
exit
