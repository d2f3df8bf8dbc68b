# name: reject_ctx_modified_ptr
# prog_type: socket_filter
# tags: ctx
# expect: reject
# expect_message: dereference of modified ctx ptr R1 off=4 disallowed
# description: moves the context pointer and then dereferences it: context
# description: accesses must use the original pointer and a constant offset
r1 += 4
r0 = *(u32 *)(r1 +0)
exit
