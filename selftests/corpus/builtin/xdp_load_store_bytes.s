# name: xdp_load_store_bytes
# prog_type: xdp
# tags: helper, stack
# expect: accept
# description: bpf_xdp_load_bytes copies 16 packet bytes to the stack (works on
# description: multi-buffer frames too); bpf_xdp_store_bytes writes 4 back
r6 = r1
r1 = r6
r2 = 0
r3 = r10
r3 += -16
r4 = 16
call bpf_xdp_load_bytes#189
if r0 != 0x0 goto out
r1 = r6
r2 = 12
r3 = r10
r3 += -16
r4 = 4
call bpf_xdp_store_bytes#190
out:
r0 = 2
exit
