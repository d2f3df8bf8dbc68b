# name: kfunc_iter_num_sum
# prog_type: socket_filter
# tags: kfunc, loop, iterator
# expect: accept
# description: an open-coded numeric iterator (bpf_iter_num_new/next/destroy) sums the indexes
# description: it yields; the verifier converges at bpf_iter_num_next instead of unrolling
r1 = r10
r1 += -8
r2 = 0
r3 = 100
call bpf_iter_num_new
r6 = 0
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0x0 goto done
r7 = *(u32 *)(r0 +0)
r6 += r7
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
r0 &= 1
exit
