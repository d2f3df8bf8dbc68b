# name: reject_cmpxchg_r0_uninit
# prog_type: socket_filter
# tags: atomic, stack
# expect: reject
# expect_message: R0 !read_ok
# description: compare-and-exchange compares with R0, which is never set
*(u64 *)(r10 -8) = 0
r1 = 1
r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)
exit
