# name: reject_unreachable_insn
# prog_type: socket_filter
# tags: branch
# expect: reject
# expect_message: unreachable insn 2
# description: instructions after the only exit that no jump leads to
r0 = 0
exit
r0 = 1
exit
