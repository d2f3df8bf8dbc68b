# name: reject_ringbuf_submit_stack_ptr
# prog_type: tracepoint
# tags: reference, helper, stack
# expect: reject
# expect_message: R1 type=fp expected=ringbuf_mem
# description: bpf_ringbuf_submit given a stack pointer instead of a reserved record
*(u64 *)(r10 -8) = 0
r1 = r10
r1 += -8
r2 = 0
call bpf_ringbuf_submit#132
r0 = 0
exit
