# name: xdp_return_any_action
# prog_type: xdp
# tags: retval, helper
# expect: accept
# description: XDP may return any value (unknown actions are treated as aborted at
# description: run time): a random value is accepted
call bpf_get_prandom_u32#7
exit
