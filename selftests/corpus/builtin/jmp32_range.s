# name: jmp32_range
# prog_type: socket_filter
# tags: branch, alu32, map, helper
# expect: accept
# map: table type=array key=4 value=32 entries=1
# description: 32-bit comparisons bound a register's range; the bounded value
# description: then indexes a map value
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[table]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u32 *)(r6 +0)
if w1 > 0x3 goto out
w1 <<= 3
r0 += r1
r2 = *(u32 *)(r6 +4)
if w2 s< 0x0 goto out
if w2 s> 0x18 goto out
r3 = *(u64 *)(r0 +0)
r0 = r3
exit
out:
r0 = 0
exit
