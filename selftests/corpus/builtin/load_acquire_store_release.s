# name: load_acquire_store_release
# prog_type: socket_filter
# tags: atomic, map, stack
# expect: accept
# map: flag type=array key=4 value=8 entries=1
# description: load-acquire and store-release (6.15+) on a map value and on the
# description: stack, in 64-, 32- and 8-bit widths
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[flag]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = load_acquire((u64 *)(r0 +0))
r1 += 1
store_release((u64 *)(r0 +0), r1)
store_release((u32 *)(r10 -16), r1)
r2 = load_acquire((u32 *)(r10 -16))
r3 = load_acquire((u8 *)(r0 +3))
out:
r0 = 0
exit
