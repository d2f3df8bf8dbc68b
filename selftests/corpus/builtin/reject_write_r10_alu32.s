# name: reject_write_r10_alu32
# prog_type: socket_filter
# tags: alu, stack
# expect: reject
# expect_message: frame pointer is read only
# description: a 32-bit move into the read-only frame pointer R10
w10 = 0
r0 = 0
exit
