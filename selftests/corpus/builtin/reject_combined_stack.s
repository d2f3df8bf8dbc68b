# name: reject_combined_stack
# prog_type: socket_filter
# tags: subprog, stack
# expect: reject
# expect_message: combined stack size of 2 calls is 640. Too large
# description: each frame stays within 512 bytes, but the caller's 320 bytes and
# description: the callee's 320 bytes together exceed the stack limit
*(u64 *)(r10 -320) = 0
call deep
r0 = *(u64 *)(r10 -320)
exit
deep:
*(u64 *)(r10 -320) = 0
r0 = 0
exit
