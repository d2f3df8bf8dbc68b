// prog_type: kprobe
// tags: helper, map, stack
// description: calls several helpers (ktime_get_ns, get_prandom_u32,
// description: get_smp_processor_id, get_current_pid_tgid, get_current_comm)
// description: and records a sampled event per CPU in a map
//
// Each helper's arguments are checked against its prototype: the comm buffer
// is a stack area of the declared size, the map key and value live on the stack.

struct event {
    u64 ts;
    u32 pid;
    u32 cpu;
    char comm[16];
};

BPF_HASH(last_event, u32, struct event, 64);
BPF_ARRAY(samples, u64, 1);

int helper_calls(struct pt_regs *ctx)
{
    if (bpf_get_prandom_u32() % 8 != 0)
        return 0;

    struct event ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.pid = bpf_get_current_pid_tgid() >> 32;
    ev.cpu = bpf_get_smp_processor_id();
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));

    u32 key = ev.cpu;
    last_event.update(&key, &ev);

    u32 zero = 0;
    u64 *n = samples.lookup(&zero);
    if (n)
        *n += 1;
    return 0;
}
