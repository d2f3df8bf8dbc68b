# name: reject_stack_oob
# prog_type: socket_filter
# tags: stack
# expect: reject
# expect_message: invalid write to stack R10 off=-520 size=8
# description: writes below the 512-byte stack
r1 = 1
*(u64 *)(r10 -520) = r1
r0 = 0
exit
