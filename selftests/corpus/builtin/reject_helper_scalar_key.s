# name: reject_helper_scalar_key
# prog_type: socket_filter
# tags: map, helper
# expect: reject
# expect_message: R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
# map: counts type=hash key=4 value=8 entries=16
# description: passes a number where bpf_map_lookup_elem wants a pointer to the key
r1 = map[counts]
r2 = 0
call bpf_map_lookup_elem#1
r0 = 0
exit
