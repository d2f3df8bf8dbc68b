# name: loop_over_map_value
# prog_type: socket_filter
# tags: loop, map, memory
# expect: accept
# map: vals type=array key=4 value=256 entries=1
# description: a bounded loop summing the 32 words of a 256-byte map value, the
# description: offset computed from the loop counter each iteration
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r6 = r0
r7 = 0
r8 = 0
loop:
r1 = r7
r1 <<= 3
r2 = r6
r2 += r1
r3 = *(u64 *)(r2 +0)
r8 += r3
r7 += 1
if r7 < 32 goto loop
out:
r0 = 0
exit
