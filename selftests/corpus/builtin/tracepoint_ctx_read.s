# name: tracepoint_ctx_read
# prog_type: tracepoint
# tags: ctx, helper, stack
# expect: accept
# description: a tracepoint program reads its record (read-only context) and
# description: fills a stack buffer with the current task's name
r6 = r1
r7 = *(u64 *)(r6 +8)
r8 = *(u32 *)(r6 +16)
r1 = r10
r1 += -16
r2 = 16
call bpf_get_current_comm#16
r0 = *(u8 *)(r10 -16)
r0 = 0
exit
