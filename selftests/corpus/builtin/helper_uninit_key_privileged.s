# name: helper_uninit_key_privileged
# prog_type: socket_filter
# tags: map, helper, stack
# expect: accept
# map: counts type=hash key=4 value=8 entries=16
# description: the key passed to bpf_map_lookup_elem points at uninitialized
# description: stack: allowed for a privileged loader, refused unprivileged
r2 = r10
r2 += -4
r1 = map[counts]
call bpf_map_lookup_elem#1
r0 = 0
exit
