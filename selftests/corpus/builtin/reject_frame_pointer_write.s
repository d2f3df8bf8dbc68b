# name: reject_frame_pointer_write
# prog_type: socket_filter
# tags: stack
# expect: reject
# expect_message: frame pointer is read only
# description: writes the read-only frame pointer r10
r10 = 0
r0 = 0
exit
