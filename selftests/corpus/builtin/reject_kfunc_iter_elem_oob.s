# name: reject_kfunc_iter_elem_oob
# prog_type: sched_cls
# tags: kfunc, loop, iterator, memory
# expect: reject
# expect_message: R0 min value is outside of the allowed memory range
# description: the element bpf_iter_num_next returns is a read-only 4-byte int: reading 8 bytes
# description: of it is out of bounds
r1 = r10
r1 += -8
r2 = 0
r3 = 4
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0x0 goto done
r7 = *(u64 *)(r0 +0)
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit
