# name: xdp_adjust_tail_reload
# prog_type: xdp
# tags: packet, helper
# expect: accept
# description: bpf_xdp_adjust_tail trims 4 bytes; data_end is reloaded and the
# description: last two bytes are read relative to the new end
r6 = r1
r2 = -4
call bpf_xdp_adjust_tail#65
if r0 != 0x0 goto out
r2 = *(u32 *)(r6 +0)
r3 = *(u32 *)(r6 +4)
r4 = r2
r4 += 2
if r4 > r3 goto out
r0 = *(u16 *)(r2 +0)
out:
r0 = 2
exit
