# name: perf_event_output_kprobe
# prog_type: kprobe
# tags: map, helper, stack
# expect: accept
# map: events type=perf_event_array key=4 value=4 entries=2
# description: a kprobe emits a 16-byte record from the stack through a perf event
# description: array, to the current CPU's buffer (BPF_F_CURRENT_CPU)
r6 = r1
call bpf_get_current_pid_tgid#14
*(u64 *)(r10 -16) = r0
r1 = *(u64 *)(r6 +112)
*(u64 *)(r10 -8) = r1
r1 = r6
r2 = map[events]
r3 = 4294967295 ll
r4 = r10
r4 += -16
r5 = 16
call bpf_perf_event_output#25
r0 = 0
exit
