# name: reject_helper_wrong_prog_type
# prog_type: socket_filter
# tags: helper
# expect: reject
# expect_message: program of this type cannot use helper bpf_xdp_adjust_head#44
# description: a socket filter calls bpf_xdp_adjust_head, which only XDP programs have
r2 = 4
call bpf_xdp_adjust_head#44
r0 = 0
exit
