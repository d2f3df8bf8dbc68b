# name: reject_caller_saved_clobbered
# prog_type: socket_filter
# tags: helper
# expect: reject
# expect_message: R1 !read_ok
# description: R1 read after a helper call, which leaves R1-R5 unreadable
r6 = r1
call bpf_get_prandom_u32#7
r0 = *(u32 *)(r1 +0)
exit
