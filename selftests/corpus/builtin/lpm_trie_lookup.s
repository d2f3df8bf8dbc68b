# name: lpm_trie_lookup
# prog_type: xdp
# tags: map, packet, helper
# expect: accept
# map: routes type=lpm_trie key=8 value=8 entries=64 flags=0x1
# description: a longest-prefix-match lookup keyed by the IPv4 source address read
# description: from the packet (prefix length 32 in the first key word)
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 34
if r4 > r3 goto out
r5 = *(u32 *)(r2 +26)
*(u32 *)(r10 -8) = 32
*(u32 *)(r10 -4) = r5
r2 = r10
r2 += -8
r1 = map[routes]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
r1 = *(u64 *)(r0 +0)
if r1 == 0x0 goto out
r0 = 1
exit
out:
r0 = 2
exit
