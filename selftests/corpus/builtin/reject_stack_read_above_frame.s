# name: reject_stack_read_above_frame
# prog_type: socket_filter
# tags: stack
# expect: reject
# expect_message: invalid read from stack R10 off=0 size=8
# description: a load at R10+0, the first byte above the frame
r0 = *(u64 *)(r10 +0)
exit
