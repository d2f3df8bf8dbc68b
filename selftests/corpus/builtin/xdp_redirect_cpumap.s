# name: xdp_redirect_cpumap
# prog_type: xdp
# tags: map, helper
# expect: accept
# map: cpus type=cpumap key=4 value=4 entries=4
# description: XDP redirect into a CPU map for receive-side steering
r1 = map[cpus]
r2 = 1
r3 = 0
call bpf_redirect_map#51
exit
