# name: reject_tail_call_wrong_map
# prog_type: socket_filter
# tags: helper, map
# expect: reject
# expect_message: expected prog array map for tail call
# map: table type=array key=4 value=4 entries=4
# description: bpf_tail_call needs a program array, gets an ordinary array
r2 = map[table]
r3 = 0
call bpf_tail_call#12
r0 = 0
exit
