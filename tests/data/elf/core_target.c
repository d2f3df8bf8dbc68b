// A made-up "kernel" for CO-RE tests: the types task_tracer.c relocates against, laid out
// differently from any real kernel, so tests/test_elf.py can check every relocated value
// against offsets known here. Its .BTF section is used as the target BTF.
// Build: clang -O2 -g -target bpf -c core_target.c -o core_target.o && llvm-strip -g core_target.o
struct task_struct {
	int pad0[3];
	unsigned int __state;            /* 12 */
	long pad1;                       /* 16 */
	int tgid;                        /* 24 */
	struct task_struct *real_parent; /* 32 */
	char comm[16];                   /* 40 */
	unsigned long long start_time;   /* 56 */
	unsigned int flags_lo : 5;       /* 64, bits 0-4 */
	unsigned int in_execve : 1;      /* 64, bit 5 */
	long state;                      /* 72: the field task_struct___old reads */
};                                       /* size 80 */

struct sock_common {
	int x;
	struct {
		short y;
		unsigned short skc_family; /* 6, inside an anonymous struct */
	};
};

struct sock {
	long pad;
	struct sock_common __sk_common; /* 8: skc_family at 14 */
};

struct pt_regs {
	unsigned long di; /* 0 */
	unsigned long dx; /* 8 */
	unsigned long si;
};

struct bpf_raw_tracepoint_args {
	unsigned long long args[0];
};

struct task_struct t_task;
struct sock t_sock;
struct pt_regs t_regs;
struct bpf_raw_tracepoint_args *t_args;
