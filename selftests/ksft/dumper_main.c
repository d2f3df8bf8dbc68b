/* verifier-diff: the main() of the test_verifier dumper.
 *
 * selftests/kernel_selftests.py builds one C file from three parts:
 *   1. the part of the kernel tree's tools/testing/selftests/bpf/test_verifier.c
 *      that precedes its `tests[]` array (struct bpf_test, the fill helpers,
 *      the instruction macros it includes), taken from the tree at build time;
 *   2. generated glue: one array per verifier/<file>.c (each file included
 *      exactly as test_verifier.c includes it), the table VD_FILES, and the
 *      VD_* feature macros saying which struct bpf_test fields the tree has;
 *   3. this file.
 * It prints one JSON object a line per test, fill helpers already run and
 * fixup positions not applied (Python builds the fixture maps).
 *
 * This file is verifier-diff's own code, not the kernel's.
 */

#ifndef VD_SEED
#define VD_SEED 1
#endif

static void vd_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void vd_key(const char *k)
{
	printf(",\"%s\":", k);
}

static void vd_hex(const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = data;
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		putchar(hex[b[i] >> 4]);
		putchar(hex[b[i] & 15]);
	}
	putchar('"');
}

static void vd_insns_hex(const struct bpf_insn *insns, int n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = (const unsigned char *)insns;
	size_t len = (size_t)n * sizeof(struct bpf_insn), i;
	char buf[4096];
	size_t k = 0;

	putchar('"');
	for (i = 0; i < len; i++) {
		buf[k++] = hex[b[i] >> 4];
		buf[k++] = hex[b[i] & 15];
		if (k == sizeof(buf)) {
			fwrite(buf, 1, k, stdout);
			k = 0;
		}
	}
	fwrite(buf, 1, k, stdout);
	putchar('"');
}

/* length of a fixed insns[] array the way test_verifier measures it:
 * up to the last slot whose code or imm is non-zero (at least 1) */
static int vd_insns_len(const struct bpf_insn *insns, int max)
{
	int n;

	for (n = max - 1; n > 0; n--)
		if (insns[n].code != 0 || insns[n].imm != 0)
			break;
	return n + 1;
}

static int vd_any_insn(const struct bpf_insn *insns, int max)
{
	int i;

	for (i = 0; i < max; i++)
		if (insns[i].code || insns[i].dst_reg || insns[i].src_reg ||
		    insns[i].off || insns[i].imm)
			return 1;
	return 0;
}

static void vd_fixup(const char *name, const int *pos, int *first)
{
	int i;

	if (!pos[0])
		return;
	printf("%s\"%s\":[", *first ? "" : ",", name);
	*first = 0;
	for (i = 0; i < MAX_FIXUPS && pos[i]; i++)
		printf("%s%d", i ? "," : "", pos[i]);
	putchar(']');
}

static const char *vd_result_name(int r)
{
	switch (r) {
	case ACCEPT: return "ACCEPT";
	case REJECT: return "REJECT";
	case VERBOSE_ACCEPT: return "VERBOSE_ACCEPT";
	default: return "UNDEF";
	}
}

static void vd_dump(const char *file, int index, struct bpf_test *t)
{
	const struct bpf_insn *insns = t->insns;
	int len, first = 1, i;

	t->fill_insns = NULL;
	if (t->fill_helper) {
		t->fill_insns = calloc(MAX_TEST_INSNS, sizeof(struct bpf_insn));
		if (!t->fill_insns) {
			perror("calloc");
			exit(2);
		}
		t->fill_helper(t);
		insns = t->fill_insns;
		len = t->prog_len;
	} else {
		len = vd_insns_len(t->insns, MAX_INSNS);
	}

	fputs("{\"file\":", stdout);
	vd_str(file);
	vd_key("index");
	printf("%d", index);
	vd_key("descr");
	vd_str(t->descr);
	vd_key("fill_helper");
	printf("%s", t->fill_helper ? "true" : "false");
	vd_key("insn_cnt");
	printf("%d", len);
	vd_key("insns");
	vd_insns_hex(insns, len > 0 ? len : 0);
	vd_key("prog_type");
	printf("%d", (int)t->prog_type);
#ifdef VD_HAVE_expected_attach_type
	vd_key("expected_attach_type");
	printf("%d", (int)t->expected_attach_type);
#endif
	vd_key("flags");
	printf("%u", (unsigned)t->flags);
	vd_key("result");
	vd_str(vd_result_name(t->result));
	vd_key("result_unpriv");
	vd_str(vd_result_name(t->result_unpriv));
	vd_key("errstr");
	vd_str(t->errstr);
	vd_key("errstr_unpriv");
	vd_str(t->errstr_unpriv);
	vd_key("retval");
	printf("%u", (unsigned)t->retval);
	vd_key("retval_unpriv");
	printf("%u", (unsigned)t->retval_unpriv);
#ifdef VD_HAVE_runs
	vd_key("runs");
	printf("%d", t->runs);
#ifdef VD_HAVE_retvals
	vd_key("retvals");
	putchar('[');
	for (i = 0; i < t->runs && i < MAX_TEST_RUNS; i++)
		printf("%s%u", i ? "," : "", (unsigned)t->retvals[i].retval);
	putchar(']');
#endif
#endif
#ifdef VD_HAVE_insn_processed
	vd_key("insn_processed");
	printf("%u", (unsigned)t->insn_processed);
#endif
#ifdef VD_HAVE_kfunc
	vd_key("kfunc");
	vd_str(t->kfunc);
#endif
#ifdef VD_HAVE_func_info_cnt
	vd_key("func_info_cnt");
	printf("%d", t->func_info_cnt);
	vd_key("func_info");
	putchar('[');
	for (i = 0; i < t->func_info_cnt && i < MAX_FUNC_INFOS; i++)
		printf("%s[%u,%u]", i ? "," : "", (unsigned)t->func_info[i].insn_off,
		       (unsigned)t->func_info[i].type_id);
	putchar(']');
#endif
#ifdef VD_HAVE_btf_types
	vd_key("btf_types");
	printf("%s", t->btf_types[0] ? "true" : "false");
	if (t->btf_types[0]) {
		/* what test_verifier loads: the types up to BTF_END_RAW, then the whole string array */
		int n = 0;

		while (n < MAX_BTF_TYPES && t->btf_types[n] != BTF_END_RAW)
			n++;
		vd_key("btf_types_hex");
		vd_hex(t->btf_types, (size_t)n * sizeof(t->btf_types[0]));
		vd_key("btf_strings_hex");
		vd_hex(t->btf_strings, sizeof(t->btf_strings));
	}
#endif
#ifdef VD_HAVE_expected_insns
	vd_key("expected_insns");
	printf("%s", vd_any_insn(t->expected_insns, MAX_EXPECTED_INSNS) ? "true" : "false");
#endif
#ifdef VD_HAVE_unexpected_insns
	vd_key("unexpected_insns");
	printf("%s", vd_any_insn(t->unexpected_insns, MAX_UNEXPECTED_INSNS) ? "true" : "false");
#endif
	vd_key("fixups");
	putchar('{');
#define VD_EMIT_FIXUP(name) vd_fixup(#name, t->fixup_##name, &first);
	VD_FOR_EACH_FIXUP(VD_EMIT_FIXUP)
#undef VD_EMIT_FIXUP
	putchar('}');
#ifdef VD_HAVE_fixup_kfunc_btf_id
	vd_key("kfunc_fixups");
	putchar('[');
	for (i = 0; i < MAX_FIXUPS && t->fixup_kfunc_btf_id[i].kfunc; i++) {
		printf("%s{\"kfunc\":", i ? "," : "");
		vd_str(t->fixup_kfunc_btf_id[i].kfunc);
		printf(",\"insn_idx\":%d}", t->fixup_kfunc_btf_id[i].insn_idx);
	}
	putchar(']');
#endif
	fputs("}\n", stdout);
	free(t->fill_insns);
	t->fill_insns = NULL;
}

int main(void)
{
	size_t f, i;

	/* test_verifier seeds from the clock; a fixed seed makes the programs
	 * built by the random fill helpers the same on every import */
	srand(VD_SEED);
	for (f = 0; f < sizeof(VD_FILES) / sizeof(VD_FILES[0]); f++)
		for (i = 0; i < VD_FILES[f].n; i++)
			vd_dump(VD_FILES[f].name, (int)i, &VD_FILES[f].tests[i]);
	return fflush(stdout) ? 1 : 0;
}
