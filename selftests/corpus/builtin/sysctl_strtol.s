# name: sysctl_strtol
# prog_type: cgroup_sysctl
# attach_type: cgroup_sysctl
# tags: helper, stack
# expect: accept
# description: bpf_strtol parses a number from a string on the stack into a long
# description: written by the helper to another stack slot
*(u64 *)(r10 -8) = 3355185
r1 = r10
r1 += -8
r2 = 4
r3 = 10
r4 = r10
r4 += -16
call bpf_strtol#105
if r0 s< 0x0 goto out
r1 = *(u64 *)(r10 -16)
out:
r0 = 1
exit
