/* Test programs for selftests.kernel_progs: every kind of test annotation the kernel's
 * progs/verifier_*.c carry as BTF decl tags, written here from scratch. No includes:
 * clang -g -O2 --target=bpf -c annotated.c is enough. */
#define SEC(name) __attribute__((section(name), used))
#define TAG(text) __attribute__((btf_decl_tag(text)))
#define STR_(x) #x
#define STR(x) STR_(x)
/* tags that may repeat carry a counter, as the kernel's annotations do */
#define EXPECT_MSG(m) TAG("comment:test_expect_msg=" STR(__COUNTER__) "=" m)
#define EXPECT_MSG_UNPRIV(m) TAG("comment:test_expect_msg_unpriv=" STR(__COUNTER__) "=" m)
#define EXPECT_XLATED(m) TAG("comment:test_expect_xlated=" STR(__COUNTER__) "=" m)
#define EXPECT_JITED(m) TAG("comment:test_jited=" STR(__COUNTER__) "=" m)
#define SUCCESS TAG("comment:test_expect_success")
#define FAILURE TAG("comment:test_expect_failure")
#define SUCCESS_UNPRIV TAG("comment:test_expect_success_unpriv")
#define FAILURE_UNPRIV TAG("comment:test_expect_failure_unpriv")
#define DESCRIBE(d) TAG("comment:test_description=" d)
#define RETVAL(v) TAG("comment:test_retval=" #v)
#define RETVAL_UNPRIV(v) TAG("comment:test_retval_unpriv=" #v)
#define LOG_LEVEL(l) TAG("comment:test_log_level=" #l)
#define FLAG(f) TAG("comment:test_prog_flags=" #f)
#define AUX TAG("comment:test_auxiliary")
#define ARCH(a) TAG("comment:test_arch=" a)
#define BTF_PATH(p) TAG("comment:test_btf_path=" p)
#define ARG_CTX TAG("arg:ctx")

char _license[] SEC("license") = "GPL";

/* accepted, returns 7 when run */
SEC("socket") DESCRIBE("returns seven") SUCCESS RETVAL(7)
int returns_seven(void *ctx)
{
	return 7;
}

/* exit without setting r0: rejected, messages in order, one of them a regular expression */
SEC("socket") FAILURE EXPECT_MSG("0: (95) exit") EXPECT_MSG("R0 !read_ok") EXPECT_MSG("processed {{[0-9]+}} insns")
FAILURE_UNPRIV EXPECT_MSG_UNPRIV("R0 !read_ok") LOG_LEVEL(2)
__attribute__((naked)) void exit_without_r0(void)
{
	asm volatile ("exit;");
}

/* privileged success, unprivileged failure inherited messages, named return values */
SEC("socket") SUCCESS FAILURE_UNPRIV EXPECT_MSG_UNPRIV("leaks addr") RETVAL(POINTER_VALUE) RETVAL_UNPRIV(INT_MIN)
int mixed_modes(void *ctx)
{
	return 0;
}

/* the last verdict annotation wins; flags are set and cleared in order; xlated lines */
SEC("socket") FAILURE SUCCESS FLAG(BPF_F_STRICT_ALIGNMENT) FLAG(!BPF_F_TEST_RND_HI32) FLAG(0x8)
EXPECT_XLATED("0: r0 = 0") EXPECT_XLATED("...") EXPECT_XLATED("exit")
int flags_and_xlated(void *ctx)
{
	return 0;
}

/* no annotation at all: a privileged test expecting success */
SEC("socket")
int unannotated(void *ctx)
{
	return 1;
}

/* jited lines only count for this machine's architecture */
SEC("socket") ARCH("X86_64") EXPECT_JITED("endbr64") ARCH("ARM64") EXPECT_JITED("paciasp") SUCCESS
int two_arches(void *ctx)
{
	return 0;
}

/* not imported, each for its own reason */
SEC("socket") AUX
int helper_prog(void *ctx)
{
	return 0;
}

SEC("socket") SUCCESS_UNPRIV EXPECT_MSG_UNPRIV("only unprivileged")
int unpriv_only(void *ctx)
{
	return 0;
}

SEC("socket") ARCH("RISCV64") SUCCESS
int other_arch(void *ctx)
{
	return 0;
}

SEC("socket") BTF_PATH("custom.bpf.o") SUCCESS
int custom_btf(void *ctx)
{
	return 0;
}

SEC("socket") RETVAL(twelve)
int bad_retval(void *ctx)
{
	return 12;
}

/* a map loaded by a literal fd number (ld_imm64 with src_reg 1, imm 1, no relocation) */
SEC("socket") FAILURE EXPECT_MSG("fd 1 is not pointing to valid bpf_map")
__attribute__((naked)) void literal_map_fd(void)
{
	asm volatile (".8byte 0x0000000100001118; .8byte 0; r0 = 0; exit;");
}

/* a global function with a context argument tag: the kernel needs that tag in the program BTF */
__attribute__((noinline)) int global_ctx_user(void *ctx ARG_CTX)
{
	return ctx != 0;
}

SEC("socket") SUCCESS LOG_LEVEL(2) EXPECT_MSG("Func#1 ('global_ctx_user') is global and assumed valid.")
int calls_global(void *ctx)
{
	return global_ctx_user(ctx);
}
