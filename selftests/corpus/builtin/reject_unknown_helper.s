# name: reject_unknown_helper
# prog_type: socket_filter
# tags: helper
# expect: reject
# expect_message: invalid func unknown#999
# description: calls a helper id the kernel does not have
call unknown#999
r0 = 0
exit
