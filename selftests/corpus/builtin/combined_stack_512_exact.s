# name: combined_stack_512_exact
# prog_type: socket_filter
# tags: subprog, stack
# expect: accept
# description: caller and callee use 256 bytes of stack each: a combined stack of
# description: exactly 512 bytes, the largest allowed
*(u64 *)(r10 -256) = 0
call deep
r1 = *(u64 *)(r10 -256)
r0 += r1
exit
deep:
*(u64 *)(r10 -256) = 1
r0 = *(u64 *)(r10 -256)
exit
