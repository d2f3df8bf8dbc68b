# name: reject_ctx_variable_offset
# prog_type: sched_cls
# tags: ctx, memory
# expect: reject
# expect_message: variable ctx access var_off=(0x0; 0x4) disallowed
# description: a context load at a variable offset (a bounded unknown added to
# description: the context pointer)
r2 = *(u32 *)(r1 +0)
r2 &= 4
r1 += r2
r0 = *(u32 *)(r1 +0)
r0 = 0
exit
