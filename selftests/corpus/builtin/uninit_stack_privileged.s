# name: uninit_stack_privileged
# prog_type: socket_filter
# tags: stack
# expect: accept
# description: loads a stack slot that was never written: a privileged loader
# description: (CAP_PERFMON) may read uninitialized stack, which reads as an
# description: unknown scalar; unprivileged, this is refused
r0 = *(u64 *)(r10 -8)
exit
