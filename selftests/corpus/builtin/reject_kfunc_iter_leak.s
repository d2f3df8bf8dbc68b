# name: reject_kfunc_iter_leak
# prog_type: socket_filter
# tags: kfunc, iterator
# expect: reject
# expect_message: BPF_EXIT instruction in main prog would lead to reference leak
# description: an iterator created and never destroyed: its reference leaks at the exit
r1 = r10
r1 += -16
r2 = 0
r3 = 8
call bpf_iter_num_new
r0 = 0
exit
