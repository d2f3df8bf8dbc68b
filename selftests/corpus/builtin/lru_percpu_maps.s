# name: lru_percpu_maps
# prog_type: sched_cls
# tags: map, helper, stack
# expect: accept
# map: flows type=lru_hash key=8 value=8 entries=64
# map: pcpu type=percpu_array key=4 value=8 entries=1
# description: update and delete in an LRU hash (key and value on the stack),
# description: then a per-CPU array counter
r6 = r1
r1 = *(u32 *)(r6 +0)
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = 1
r1 = map[flows]
r2 = r10
r2 += -8
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem#2
r1 = map[flows]
r2 = r10
r2 += -8
call bpf_map_delete_elem#3
*(u32 *)(r10 -20) = 0
r1 = map[pcpu]
r2 = r10
r2 += -20
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u64 *)(r0 +0)
r1 += 1
*(u64 *)(r0 +0) = r1
out:
r0 = 0
exit
