// SPDX-License-Identifier: GPL-2.0
// Features whose kernel semantics depend on BTF the Program record does not carry, plus
// externs: the importer must say what it cannot import faithfully instead of importing
// something the kernel would treat differently.
//  - a bpf_loop callback: ld_imm64 of a function needs the object's BTF func_info;
//  - a global (non-static) function: verified as static without func_info (imported, noted);
//  - a map whose value holds a bpf_spin_lock: the verifier needs the map's BTF;
//  - a tail call inside a subprogram: the kernel allows it only with func_info;
//  - tp_btf / fentry programs (attach_to), a kfunc call, typed __ksym externs (a function, and a
//    per-CPU variable that the kernel finds only with CONFIG_KALLSYMS_ALL), __kconfig values.
//
// Build: clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I<dir of vmlinux.h> -c btf_features.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_BPF_JIT __kconfig __weak;
extern const int bpf_prog_active __ksym; /* a per-CPU variable: only in kallsyms with KALLSYMS_ALL */
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct locked {
	struct bpf_spin_lock lock;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} guarded SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jumps SEC(".maps");

static __noinline int jump(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, skb->len & 3);
	return 0;
}

static int add_one(__u32 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

__noinline int global_double(int x)
{
	return x * 2;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int uses_loop(void *ctx)
{
	__u64 sum = 0;

	bpf_loop(8, add_one, &sum, 0);
	return sum;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int uses_global(void *ctx)
{
	return global_double(21);
}

SEC("tc")
int uses_lock(struct __sk_buff *ctx)
{
	__u32 k = 0;
	struct locked *v = bpf_map_lookup_elem(&guarded, &k);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->value++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc")
int uses_tail_call(struct __sk_buff *skb)
{
	return jump(skb);
}

SEC("tracepoint/syscalls/sys_enter_getuid")
int uses_kconfig(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&plain, &k);

	if (!v)
		return 0;
	*v = LINUX_KERNEL_VERSION + CONFIG_HZ + CONFIG_BPF_JIT;
	if ((void *)bpf_task_acquire) /* libbpf's bpf_ksym_exists() */
		*v += 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getgid")
int uses_ksym(void *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	return *active;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct *t = bpf_task_acquire(next);

	if (t)
		bpf_task_release(t);
	return 0;
}

SEC("fentry/do_nanosleep")
int BPF_PROG(on_nanosleep, void *t, int mode)
{
	return 0;
}
