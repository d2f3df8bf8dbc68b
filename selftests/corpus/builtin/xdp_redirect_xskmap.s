# name: xdp_redirect_xskmap
# prog_type: xdp
# tags: map, helper, ctx
# expect: accept
# map: xsks type=xskmap key=4 value=4 entries=16
# description: AF_XDP: redirect to the socket of the receive queue in an XSK map
r2 = *(u32 *)(r1 +16)
r1 = map[xsks]
r3 = 2
call bpf_redirect_map#51
exit
