# name: reject_helper_zero_size
# prog_type: kprobe
# tags: helper, stack
# expect: reject
# expect_message: R2 invalid zero-sized read: u64=[0,0]
# description: bpf_get_current_comm with a size of 0: its size argument must be
# description: positive
r1 = r10
r1 += -16
r2 = 0
call bpf_get_current_comm#16
r0 = 0
exit
