# name: reject_subprog_stack_ptr
# prog_type: socket_filter
# tags: subprog, stack
# expect: reject
# expect_message: cannot return stack pointer to the caller
# description: a subprogram returns a pointer into its own stack frame, which
# description: is gone once it returns
call local_buf
r0 = *(u64 *)(r0 +0)
exit
local_buf:
*(u64 *)(r10 -8) = 0
r0 = r10
r0 += -8
exit
