// SPDX-License-Identifier: GPL-2.0
// A libbpf-style tracing object: BTF-defined maps (.maps), global data in .data, .rodata and
// .bss, static subprograms (bpf-to-bpf calls), and CO-RE relocations against the kernel's
// task_struct and sock (BPF_CORE_READ, bpf_core_field_exists/size, bpf_core_type_size, a
// bitfield read, and a field of an old kernel layout whose read is guarded away).
//
// Build: clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I<dir of vmlinux.h> -c task_tracer.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u32 pid;
	__u32 ppid;
	__u64 start_time;
	__u32 in_execve;
	__u32 state_size;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 10000); /* libbpf rounds this up to a page-size power of two */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u32 target_tgid = 0;        /* .rodata: frozen, read as a constant */
const volatile __u32 sample_every = 1;       /* .rodata */
__u64 seen = 100;                             /* .data */
__u64 dropped;                                /* .bss */
static __u32 last_pid;                        /* .bss, static */

/* The layout of an older kernel: 'state' was renamed '__state' in 5.14. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __noinline __u32 parent_tgid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

static __noinline int bump(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (!c)
		return 0;
	*c += 1;
	return 1;
}

static __noinline __u32 task_state(struct task_struct *task)
{
	struct task_struct___old *old = (void *)task;

	if (bpf_core_field_exists(old->state))
		return BPF_CORE_READ(old, state);
	return BPF_CORE_READ(task, __state);
}

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event e = {};

	if (target_tgid && target_tgid != pid)
		return 0;
	if (sample_every > 1 && (seen % sample_every))
		return 0;
	e.pid = pid;
	e.ppid = parent_tgid(task);
	e.start_time = BPF_CORE_READ(task, start_time);
	e.in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	e.state_size = bpf_core_field_size(task->__state) + task_state(task);
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	bpf_map_update_elem(&events, &pid, &e, BPF_ANY);
	__sync_fetch_and_add(&seen, 1);
	last_pid = pid;
	bump(0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int handle_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	__u32 pid = BPF_CORE_READ(task, tgid);
	struct event *e;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		dropped++;
		return 0;
	}
	e->pid = pid;
	e->ppid = parent_tgid(task);
	e->start_time = bpf_core_type_size(struct task_struct);
	e->in_execve = bpf_core_type_exists(struct task_struct___old);
	e->state_size = last_pid;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	bpf_map_delete_elem(&events, &pid);
	bump(1);
	return 0;
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(trace_sendmsg, struct sock *sk, struct msghdr *msg, size_t size)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u32 idx = family == 10 /* AF_INET6 */ ? 3 : 2;

	if (size > 1500)
		__sync_fetch_and_add(&dropped, 1);
	return bump(idx);
}
