# name: reject_helper_buffer_too_small
# prog_type: tracepoint
# tags: helper, stack
# expect: reject
# expect_message: invalid write to stack R1 off=-16 size=32
# description: bpf_get_current_comm is told the buffer is 32 bytes, but it
# description: starts 16 bytes below the frame pointer
r1 = r10
r1 += -16
r2 = 32
call bpf_get_current_comm#16
r0 = 0
exit
