# name: ldsx_map_value_bounds
# prog_type: socket_filter
# tags: map, memory, alu
# expect: accept
# map: vals type=array key=4 value=256 entries=1
# description: a sign-extending byte load (LDSX) from a map value gives a value in
# description: [-128, 127]; adding 128 makes it a valid index
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(s8 *)(r0 +0)
r1 += 128
r0 += r1
r0 = *(u8 *)(r0 +0)
out:
r0 = 0
exit
