# name: tail_call
# prog_type: socket_filter
# tags: helper, map
# expect: accept
# map: jmp_table type=prog_array key=4 value=4 entries=4
# description: bpf_tail_call into a program array; falls through when the slot
# description: is empty
r2 = map[jmp_table]
r3 = 1
call bpf_tail_call#12
r0 = 0
exit
