# name: xdp_meta_adjust
# prog_type: xdp
# tags: packet, helper, ctx
# expect: accept
# description: bpf_xdp_adjust_meta makes 4 bytes of metadata; data_meta is proven
# description: 4 bytes before data, and written
r6 = r1
r2 = -4
call bpf_xdp_adjust_meta#54
if r0 != 0x0 goto out
r2 = *(u32 *)(r6 +8)
r3 = *(u32 *)(r6 +0)
r4 = r2
r4 += 4
if r4 > r3 goto out
*(u32 *)(r2 +0) = 42
out:
r0 = 2
exit
