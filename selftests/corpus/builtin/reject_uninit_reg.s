# name: reject_uninit_reg
# prog_type: socket_filter
# tags: alu
# expect: reject
# expect_message: R2 !read_ok
# description: reads r2, which nothing has written (only r1 and r10 are set at entry)
r0 = r2
exit
