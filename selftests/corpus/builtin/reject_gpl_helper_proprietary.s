# name: reject_gpl_helper_proprietary
# prog_type: kprobe
# license: Proprietary
# tags: helper, stack
# expect: reject
# expect_message: cannot call GPL-restricted function from non-GPL compatible program
# description: a program without a GPL-compatible license calls a GPL-only helper
r3 = *(u64 *)(r1 +112)
r1 = r10
r1 += -8
r2 = 8
call bpf_probe_read_kernel#113
r0 = 0
exit
