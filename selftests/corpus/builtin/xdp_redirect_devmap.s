# name: xdp_redirect_devmap
# prog_type: xdp
# tags: map, helper
# expect: accept
# map: ports type=devmap key=4 value=4 entries=8
# description: XDP redirect into a device map, the port chosen by the receive queue
# description: (masked into the map's range); the flags fall back to XDP_PASS
r2 = *(u32 *)(r1 +16)
r2 &= 7
r1 = map[ports]
r3 = 2
call bpf_redirect_map#51
exit
