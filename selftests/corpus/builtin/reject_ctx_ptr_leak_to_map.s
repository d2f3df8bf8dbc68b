# name: reject_ctx_ptr_leak_to_map
# prog_type: socket_filter
# tags: map, memory, ctx
# expect: reject
# expect_message: R1 invalid mem access 'scalar'
# map: vals type=array key=4 value=8 entries=1
# description: the context pointer stored into a map value and loaded back: what
# description: comes back is a scalar, and dereferencing it fails
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[vals]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto out
*(u64 *)(r0 +0) = r6
r1 = *(u64 *)(r0 +0)
r0 = *(u32 *)(r1 +0)
out:
r0 = 0
exit
