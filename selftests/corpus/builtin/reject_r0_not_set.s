# name: reject_r0_not_set
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: R0 !read_ok
# description: exits without setting the return value in r0
r1 = 0
exit
