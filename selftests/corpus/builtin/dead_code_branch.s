# name: dead_code_branch
# prog_type: socket_filter
# tags: branch
# expect: accept
# description: a branch on a known constant is never taken, so the read of an
# description: uninitialized register behind it is never explored: accepted
r0 = 0
if r0 != 0x0 goto bad
exit
bad:
r0 = r9
exit
