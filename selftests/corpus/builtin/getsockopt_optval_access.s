# name: getsockopt_optval_access
# prog_type: cgroup_sockopt
# attach_type: cgroup_getsockopt
# tags: ctx, packet
# expect: accept
# description: a getsockopt hook reads the first byte of the option buffer through
# description: optval, proven against optval_end like packet data
r2 = *(u64 *)(r1 +8)
r3 = *(u64 *)(r1 +16)
r4 = r2
r4 += 1
if r4 > r3 goto out
r5 = *(u8 *)(r2 +0)
out:
r0 = 1
exit
