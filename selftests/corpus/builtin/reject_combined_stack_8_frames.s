# name: reject_combined_stack_8_frames
# prog_type: socket_filter
# tags: subprog, stack
# expect: reject
# expect_message: combined stack size of 7 calls is 560. Too large
# description: eight frames of 72 bytes each: every frame is small, but together
# description: they need 576 bytes, more than the 512-byte combined limit
*(u64 *)(r10 -72) = 0
call f1
exit
f1:
*(u64 *)(r10 -72) = 0
call f2
exit
f2:
*(u64 *)(r10 -72) = 0
call f3
exit
f3:
*(u64 *)(r10 -72) = 0
call f4
exit
f4:
*(u64 *)(r10 -72) = 0
call f5
exit
f5:
*(u64 *)(r10 -72) = 0
call f6
exit
f6:
*(u64 *)(r10 -72) = 0
call f7
exit
f7:
*(u64 *)(r10 -72) = 0
r0 = 0
exit
