# name: prandom_mask_index
# prog_type: xdp
# tags: helper, alu, map
# expect: accept
# map: weights type=array key=4 value=16 entries=1
# description: a random number masked to 0..15 indexes a 16-byte map value
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[weights]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pass
r6 = r0
call bpf_get_prandom_u32#7
r0 &= 15
r6 += r0
r1 = *(u8 *)(r6 +0)
if r1 > 0x80 goto drop
pass:
r0 = 2
exit
drop:
r0 = 1
exit
