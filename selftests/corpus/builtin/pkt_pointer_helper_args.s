# name: pkt_pointer_helper_args
# prog_type: sched_cls
# tags: packet, helper, map
# expect: accept
# map: seen type=hash key=4 value=8 entries=64
# description: packet memory passed straight to helpers that accept it: the
# description: IPv4 source address as a map key, and 8 bytes to bpf_csum_diff
r6 = r1
r2 = *(u32 *)(r6 +76)
r3 = *(u32 *)(r6 +80)
r4 = r2
r4 += 34
if r4 > r3 goto out
r7 = r2
r2 += 26
r1 = map[seen]
call bpf_map_lookup_elem#1
r1 = r7
r1 += 26
r2 = 8
r3 = 0
r4 = 0
r5 = 0
call bpf_csum_diff#28
out:
r0 = 0
exit
