# name: tracepoint_get_stack_output
# prog_type: tracepoint
# tags: helper, map, stack
# expect: accept
# map: events type=perf_event_array key=4 value=4 entries=2
# description: a tracepoint takes a 64-byte stack trace with bpf_get_stack, whose
# description: return value is bounded by the buffer size, and emits exactly the
# description: bytes it got through bpf_perf_event_output
r6 = r1
r1 = r6
r2 = r10
r2 += -64
r3 = 64
r4 = 0
call bpf_get_stack#67
if r0 s<= 0x0 goto out
r5 = r0
r1 = r6
r2 = map[events]
r3 = 4294967295 ll
r4 = r10
r4 += -64
call bpf_perf_event_output#25
out:
r0 = 0
exit
