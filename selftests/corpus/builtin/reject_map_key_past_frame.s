# name: reject_map_key_past_frame
# prog_type: socket_filter
# tags: map, helper, stack
# expect: reject
# expect_message: invalid read from stack R2 off=-8 size=16
# map: h type=hash key=16 value=8 entries=4
# description: a 16-byte key passed as fp-8: the key would extend 8 bytes above
# description: the top of the frame
*(u64 *)(r10 -8) = 0
r2 = r10
r2 += -8
r1 = map[h]
call bpf_map_lookup_elem#1
r0 = 0
exit
