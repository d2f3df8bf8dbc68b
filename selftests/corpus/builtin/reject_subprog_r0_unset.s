# name: reject_subprog_r0_unset
# prog_type: socket_filter
# tags: subprog
# expect: reject
# expect_message: R0 !read_ok
# description: a subprogram returns without setting R0; the caller uses its result
r1 = 1
call f
r0 &= 1
exit
f:
r2 = r1
exit
