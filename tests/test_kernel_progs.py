"""The importer of the kernel's progs/verifier_*.c tests (selftests.kernel_progs): decl tags -> Expect.

The annotation mapping is tested on tag lists and on tests/data/kprogs/annotated.c (our own file,
compiled here with clang); one test imports a few files of a real 6.12 tree when it is unpacked.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.btf import DECL_TAG, FUNC, Btf
from selftests import kernel_progs as kp
from selftests import kernel_selftests as ks

DATA = Path(__file__).resolve().parent / "data" / "kprogs"
ANNOTATED = DATA / "annotated.c"
KSRC = Path(os.environ.get("VD_KSRC_PROGS", "/var/cache/verifier-diff/linux-source-6.12"))
CLANG = shutil.which(os.environ.get("CLANG", "clang"))
needs_clang = pytest.mark.skipif(CLANG is None, reason="no clang: apt-get install clang (scripts/setup.sh does)")
needs_tree = pytest.mark.skipif(
    not (KSRC / kp.PROGS).is_dir() or not any((KSRC / kp.PROGS).glob("verifier_*.c")),
    reason=f"no 6.12 kernel tree with progs/verifier_*.c at {KSRC} (set VD_KSRC_PROGS): apt-get install "
           "linux-source-6.12 and unpack it as scripts/setup.sh --with-tests does")
needs_tools = pytest.mark.skipif(shutil.which("bpftool") is None and not Path("/usr/sbin/bpftool").exists(),
                                 reason="no bpftool to dump vmlinux.h: apt-get install bpftool")

T = "comment:test_"
RND, INV = uapi.PROG_FLAGS["test_rnd_hi32"], uapi.PROG_FLAGS["test_reg_invariants"]


# --- decl tags -> test spec (no compiler needed) ---------------------------------------------------

def test_no_annotation_is_a_privileged_success():
    s = kp.test_spec([])
    assert s.priv_mode and not s.unpriv_mode and not s.priv.expect_failure
    e = kp.expect_of(s, "progs/x.c")
    assert e.verdict == "accept" and e.message is None and e.extra == {"kprogs_file": "progs/x.c"}


def test_last_verdict_wins_and_messages_keep_their_order():
    tags = [T + "expect_success", T + "expect_failure", T + "expect_msg=3=first", T + "expect_msg=1=second {{[0-9]+}}",
            T + "expect_msg=2=third", T + "description=a test"]
    s = kp.test_spec(tags)
    assert s.priv.expect_failure and s.priv.msgs == ["first", "second {{[0-9]+}}", "third"]
    e = kp.expect_of(s, "progs/f.c")
    assert e.verdict == "reject"
    assert e.message == "third"  # the last plain-text message
    assert e.extra["msgs"] == ["first", "second {{[0-9]+}}", "third"]
    assert e.extra["description"] == "a test"
    assert "result_unpriv" not in e.extra  # privileged only


def test_message_with_equals_sign_and_regex_only():
    s = kp.test_spec([T + "expect_failure", T + "expect_msg=7=R1 type=scalar expected=fp",
                      T + "expect_msg=8={{R[0-9]}} bad"])
    assert s.priv.msgs == ["R1 type=scalar expected=fp", "{{R[0-9]}} bad"]
    assert kp.expect_of(s, "f").message == "R1 type=scalar expected=fp"
    s2 = kp.test_spec([T + "expect_failure", T + "expect_msg=1={{.*}}"])
    assert kp.expect_of(s2, "f").message is None


def test_unprivileged_result_and_messages_are_inherited():
    s = kp.test_spec([T + "expect_failure", T + "expect_msg=0=boom", T + "expect_success_unpriv"])
    assert s.unpriv_mode and not s.unpriv.expect_failure and s.unpriv.msgs == ["boom"]
    e = kp.expect_of(s, "f")
    assert e.extra["result_unpriv"] == "ACCEPT" and "errstr_unpriv" not in e.extra
    s = kp.test_spec([T + "expect_failure", T + "expect_msg_unpriv=0=leak"])
    e = kp.expect_of(s, "f")
    assert e.extra["result_unpriv"] == "REJECT"  # inherited from the privileged result
    assert e.extra["msgs_unpriv"] == ["leak"] and e.extra["errstr_unpriv"] == "leak"
    assert "msgs" not in e.extra


def test_unprivileged_only_and_auxiliary():
    s = kp.test_spec([T + "expect_failure_unpriv"])
    assert s.unpriv_mode and not s.priv_mode
    s = kp.test_spec([T + "auxiliary"])
    assert s.auxiliary and s.priv_mode
    s = kp.test_spec([T + "auxiliary_unpriv"])
    assert s.auxiliary and s.unpriv_mode and not s.priv_mode


@pytest.mark.parametrize("text,value", [("0", 0), ("-1", -1), ("0x10", 16), ("0xffffffff", -1), ("INT_MIN", -(1 << 31)),
                                        ("POINTER_VALUE", kp.POINTER_VALUE), ("TEST_DATA_LEN", 64)])
def test_retval(text, value):
    s = kp.test_spec([T + "retval=" + text])
    assert s.priv.retval == value and s.priv_mode
    assert kp.expect_of(s, "f").extra["retval"] == value


def test_retval_unpriv_and_log_level():
    s = kp.test_spec([T + "retval=1", T + "retval_unpriv=2", T + "log_level=2"])
    e = kp.expect_of(s, "f")
    assert e.extra["retval"] == 1 and e.extra["retval_unpriv"] == 2 and e.extra["log_level"] == 2
    assert e.extra["result_unpriv"] == "ACCEPT"


def test_prog_flags_set_and_clear_in_order():
    strict, freq = uapi.PROG_FLAGS["strict_alignment"], uapi.PROG_FLAGS["test_state_freq"]
    assert kp.test_spec([]).prog_flags == RND | INV
    s = kp.test_spec([T + "prog_flags=BPF_F_STRICT_ALIGNMENT", T + "prog_flags=!BPF_F_TEST_RND_HI32",
                      T + "prog_flags=0x8"])
    assert s.prog_flags == strict | INV | freq
    assert s.flags == ["BPF_F_STRICT_ALIGNMENT", "!BPF_F_TEST_RND_HI32", "0x8"]
    s = kp.test_spec([T + "prog_flags=!BPF_F_TEST_REG_INVARIANTS", T + "prog_flags=BPF_F_TEST_REG_INVARIANTS"])
    assert s.prog_flags == RND | INV


def test_arch_and_jited():
    tags = [T + "arch=X86_64", T + "jited=1=endbr64", T + "arch=ARM64", T + "jited=2=paciasp"]
    assert kp.test_spec(tags, arch="X86_64").priv.jited == ["endbr64"]
    assert kp.test_spec(tags, arch="ARM64").priv.jited == ["paciasp"]
    s = kp.test_spec(tags, arch="RISCV64")
    assert s.priv.jited == [] and s.arch == ["X86_64", "ARM64"]
    with pytest.raises(kp.SpecError):
        kp.test_spec([T + "jited=1=nop"])
    with pytest.raises(kp.SpecError):
        kp.test_spec([T + "arch=MIPS"])


@pytest.mark.parametrize("tag", [T + "retval=seven", T + "log_level=two", T + "prog_flags=BPF_F_NOPE"])
def test_unparsable_annotations(tag):
    with pytest.raises(kp.SpecError):
        kp.test_spec([tag])


def test_msgs_match_in_order_with_regex():
    log = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n1: (95) exit\nprocessed 2 insns (limit 1000000)\n"
    assert kp.msgs_match(log, ["r0 = 0", "exit", "processed {{[0-9]+}} insns"]) is None
    assert kp.msgs_match(log, ["exit", "r0 = 0"]) == 1  # order matters
    assert kp.msgs_match(log, ["{{^1: }}"]) is None  # ^ matches at a line start
    assert kp.msgs_match(log, ["processed {{[a-z]+}} insns"]) == 0
    assert kp.msgs_match(log, ["(b7) r0"]) is None  # verbatim parts are not regular expressions
    assert kp.msgs_match(log, ["{{unclosed"]) == 0


def test_function_source():
    text = ('int x;\n\nSEC("socket")\n__success __msg("a { b")\nint f(void *ctx)\n{\n\tif (1) { return 0; }\n'
            '\tasm volatile ("r0 = 0;\\\n\texit;" ::: "r0"); /* } */\n\treturn 1;\n}\n\nint g(void) { return 0; }\n')
    src = kp.function_source(text, "f")
    assert src.startswith('SEC("socket")\n__success') and src.rstrip().endswith("return 1;\n}")
    assert kp.function_source(text, "g") == "int g(void) { return 0; }\n"
    assert kp.function_source(text, "nope") is None
    # a name made by a macro: found by the line of its first instruction
    text2 = ('#define PROG(name) name(void *ctx)\n#define MANY(x) \\\nSEC("socket") \\\nint x(void *c) { return 0; }\n'
             '\nSEC("xdp")\n__success\nint PROG(made)\n{\n\treturn 2;\n}\nMANY(m1)\n')
    assert kp.function_source(text2, "made") is None
    assert kp.function_source(text2, "made", [9]) == 'SEC("xdp")\n__success\nint PROG(made)\n{\n\treturn 2;\n}\n'
    macro = '#define MANY(x) \\\nSEC("socket") \\\nint x(void *c) { return 0; }\n'
    assert kp.function_source(text2, "m1", [4]) == macro
    assert kp.function_source(text2, "m1", [99]) is None
    # the first instruction's line inside the body; a program made by a macro invocation
    assert kp.function_source(text2, "made", [3, 10]) == kp.function_source(text2, "made", [9])
    assert kp.function_source(text2, "m1x", [12]) == macro + "MANY(m1)\n"


# --- our own annotated object ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    if CLANG is None:
        pytest.skip("no clang: apt-get install clang")
    obj = tmp_path_factory.mktemp("kprogs") / "annotated.o"
    r = subprocess.run([CLANG, "-g", "-O2", "--target=bpf", "-c", str(ANNOTATED), "-o", str(obj)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    programs, skipped = kp.import_object(kp.Built(ANNOTATED, obj), "test", arch="X86_64")
    return obj, {p.name.split("/", 1)[1]: p for p in programs}, {s.name.split("/")[-1]: s for s in skipped}


@needs_clang
def test_decl_tags_read_from_the_object(annotated):
    obj, _, _ = annotated
    btf = kp._object_btf(obj)
    fid = btf.find("exit_without_r0", FUNC)[0]
    assert kp.func_decl_tags(btf, fid) == [
        T + "expect_failure", T + "expect_msg=0=0: (95) exit", T + "expect_msg=1=R0 !read_ok",
        T + "expect_msg=2=processed {{[0-9]+}} insns", T + "expect_failure_unpriv",
        T + "expect_msg_unpriv=3=R0 !read_ok", T + "log_level=2"]
    # argument tags (component 0) are not the function's annotations
    assert kp.func_decl_tags(btf, btf.find("global_ctx_user", FUNC)[0]) == []


@needs_clang
def test_annotated_object_to_expect(annotated):
    _, progs, _ = annotated
    assert sorted(progs) == ["calls_global", "exit_without_r0", "flags_and_xlated", "mixed_modes", "returns_seven",
                             "two_arches", "unannotated"]
    p = progs["returns_seven"]
    assert p.id == "kprogs-test/annotated/returns_seven" and p.source == "kprogs-test"
    assert p.expect.verdict == "accept" and p.expect.extra["retval"] == 7
    assert p.expect.extra["description"] == "returns seven"
    assert p.tags[:3] == ("simple", "kprogs", "kprogs:annotated") and "elf" not in p.tags
    assert p.prog_type == uapi.prog_type_num("socket_filter") and p.prog_flags == RND | INV
    # the definition with the annotations and the comment right above it
    assert p.source_text.startswith('/* accepted, returns 7 when run */\nSEC("socket") DESCRIBE("returns seven")')
    assert p.source_text.endswith("return 7;\n}\n")
    p = progs["exit_without_r0"]
    assert p.expect.verdict == "reject" and p.expect.message == "R0 !read_ok"
    assert p.expect.extra["msgs"] == ["0: (95) exit", "R0 !read_ok", "processed {{[0-9]+}} insns"]
    assert p.expect.extra["result_unpriv"] == "REJECT" and p.expect.extra["log_level"] == 2
    p = progs["mixed_modes"]
    assert p.expect.verdict == "accept" and p.expect.extra["result_unpriv"] == "REJECT"
    assert p.expect.extra["errstr_unpriv"] == "leaks addr"
    assert p.expect.extra["retval"] == kp.POINTER_VALUE and p.expect.extra["retval_unpriv"] == -(1 << 31)
    p = progs["flags_and_xlated"]
    assert p.prog_flags == uapi.PROG_FLAGS["strict_alignment"] | INV | uapi.PROG_FLAGS["test_state_freq"]
    assert p.expect.extra["xlated"] == ["0: r0 = 0", "...", "exit"] and p.expect.extra["checks_xlated"]
    assert progs["unannotated"].expect.verdict == "accept"
    assert progs["two_arches"].expect.extra["checks_jited"] and progs["two_arches"].expect.extra["arch"] == [
        "X86_64", "ARM64"]


@needs_clang
def test_not_imported_programs_say_why(annotated):
    _, progs, skipped = annotated
    assert {k: s.reason for k, s in skipped.items()} == {
        "helper_prog": kp.SKIP_AUXILIARY, "unpriv_only": kp.SKIP_UNPRIV_ONLY, "other_arch": kp.SKIP_ARCH,
        "custom_btf": kp.SKIP_CUSTOM_BTF, "bad_retval": kp.SKIP_BAD_SPEC, "literal_map_fd": ks.SKIP_RAW_MAP_FD}
    assert skipped["literal_map_fd"].detail.startswith("insn 0 of literal_map_fd loads map fd 1 directly")
    assert all(s.file == "progs/annotated.c" and s.detail for s in skipped.values())
    # every program function of the object is either imported or listed
    assert sorted([*progs, *skipped]) == sorted(kp._program_funcs(annotated[0]))


@needs_clang
def test_custom_btf_path_resolved(annotated, tmp_path):
    obj = annotated[0]
    sec = next(x for x in kp.read_elf(obj).sections if x.name == ".BTF")
    target = tmp_path / "custom.btf"
    target.write_bytes(sec.data)
    asked = []

    def resolve(path):
        asked.append(path)
        return (str(target), "") if path == "custom.bpf.o" else (None, "unknown")

    programs, skipped = kp.import_object(kp.Built(ANNOTATED, obj), "test", arch="X86_64", custom_btf=resolve)
    assert asked == ["custom.bpf.o"] and "custom_btf" not in {s.name.split("/")[-1] for s in skipped}
    p = next(p for p in programs if p.name == "annotated/custom_btf")
    assert p.expect.verdict == "accept"
    _, skipped = kp.import_object(kp.Built(ANNOTATED, obj), "test", custom_btf=lambda path: (None, "cannot build"))
    s = next(s for s in skipped if s.name.endswith("custom_btf"))
    assert s.reason == kp.SKIP_CUSTOM_BTF and s.detail.endswith("cannot build")


@needs_clang
def test_program_btf_keeps_argument_tags(annotated):
    p = annotated[1]["calls_global"]
    btf = Btf.parse(p.btf)
    names = [btf.type(t).name for _, t in p.func_info]
    assert names == ["calls_global", "global_ctx_user"]
    tags = [(t.name, btf.type(t.size_type).name, t.extra) for t in btf.types[1:] if t.kind == DECL_TAG]
    assert tags == [("arg:ctx", "global_ctx_user", 0)]
    assert "subprog" in p.tags
    for i, f, ln, _ in p.line_info:  # line_info strings survive the re-encoding
        assert btf.str_at(f).endswith("annotated.c") and btf.str_at(ln)


@needs_clang
def test_clang_failure_is_one_skipped_entry(tmp_path):
    src = tmp_path / "verifier_broken.c"
    src.write_text('#define SEC(n) __attribute__((section(n), used))\nSEC("socket") int a(void *c) { return nope; }\n')
    env = kp.BuildEnv(CLANG, ("-g", "-O2", "--target=bpf"), "k", tmp_path / "cache", "test")
    built = kp.build_one(env, src)
    assert built.obj is None and "nope" in built.error
    again = kp.build_one(env, src)  # the refusal is cached too
    assert again.cached and again.error == built.error
    programs, skipped = kp.import_object(built, "test")
    assert programs == [] and len(skipped) == 1
    assert skipped[0].reason == kp.SKIP_CLANG and "1 SEC() lines" in skipped[0].detail


@needs_clang
def test_werror_only_failure_is_built_without_it(tmp_path):
    src = tmp_path / "verifier_warns.c"
    src.write_text('#define SEC(n) __attribute__((section(n), used))\nchar _l[] SEC("license") = "GPL";\n'
                   'SEC("socket") int a(void *c) { int unused; return 0; }\n')
    env = kp.BuildEnv(CLANG, ("-g", "-Wall", "-Werror", "-O2", "--target=bpf"), "k", tmp_path / "cache", "test")
    built = kp.build_one(env, src)
    assert built.obj is not None and "unused" in built.without_werror
    programs, _ = kp.import_object(built, "test")
    assert "unused" in programs[0].expect.extra["built_without_werror"]
    assert kp.build_one(env, src).cached


@needs_clang
@pytest.mark.bpf
def test_annotated_object_on_the_kernel(annotated):
    """The live kernel agrees with our annotations, and the decl-tagged program BTF loads."""
    from kernel_loader import load

    for name, p in annotated[1].items():
        r = load(p, log_level=2)
        assert r.verdict == p.expect.verdict, (name, r.message)
        msgs = p.expect.extra.get("msgs")
        if msgs:
            assert kp.msgs_match(r.log, msgs) is None, (name, r.log[-500:])


# --- a real tree -------------------------------------------------------------------------------------

FILES = ["verifier_cfg", "verifier_unpriv", "verifier_bpf_fastcall", "verifier_global_subprogs"]


@pytest.fixture(scope="module")
def real_import():
    return kp.import_kernel_progs(KSRC, files=FILES)


@needs_tree
@needs_clang
@needs_tools
def test_real_tree_files_are_accounted_for(real_import):
    programs, skipped, builds = real_import
    assert [b.src.stem for b in builds] == sorted(FILES)
    version = ks.kernel_version(KSRC)
    funcs = {b.src.stem: kp._program_funcs(b.obj) for b in builds if b.obj is not None}
    assert len(funcs) == len(FILES), [b.error for b in builds]
    want = {f"kprogs-{version}/{stem}/{f}" for stem, fs in funcs.items() for f in fs}
    assert {p.id for p in programs} | {s.id for s in skipped} == want
    assert len(programs) + len(skipped) == len(want)
    reasons = {s.reason for s in skipped}
    assert kp.SKIP_AUXILIARY in reasons  # verifier_unpriv's dummy tail-call targets
    for p in programs:
        stem = p.name.split("/")[0]
        assert p.expect.verdict in ("accept", "reject")
        assert p.expect.extra["kprogs_file"] == f"progs/{stem}.c" and f"kprogs:{stem}" in p.tags
        assert p.prog_flags & INV and p.btf is not None and p.func_info
        assert p.source_text and p.name.split("/")[1] in p.source_text
    # a second import compiles nothing
    again = kp.import_kernel_progs(KSRC, files=FILES)
    assert all(b.cached for b in again[2]) and [p.to_json() for p in again[0]] == [p.to_json() for p in programs]


@needs_tree
@needs_clang
@needs_tools
@pytest.mark.bpf
def test_real_tree_kernel_verdicts_match_the_annotations(real_import):
    from kernel_loader import load

    programs = [p for p in real_import[0] if not ks.env_tags(p)]
    agree = [p.id for p in programs if load(p, log_level=1).verdict == p.expect.verdict]
    assert len(agree) >= 0.9 * len(programs), sorted({p.id for p in programs} - set(agree))


@needs_tree
@needs_clang
@needs_tools
def test_cli_writes_corpus_and_skip_list(tmp_path, capsys):
    from compare.cli import main

    out = tmp_path / "k.jsonl"
    assert main(["corpus", "import-kernel-progs", str(KSRC), "--out", str(out), "--file", "verifier_unpriv"]) == 0
    text = capsys.readouterr().out
    assert "imported" in text and "skipped (auxiliary)" in text
    lines = out.read_text().splitlines()
    doc = json.loads((tmp_path / "k.skipped.json").read_text())
    assert lines and doc["count"] == len(doc["skipped"]) and doc["by_reason"]["auxiliary"] >= 1


# --- agreement of a run with the annotations ------------------------------------------------------

def test_agreement_checks_verdicts_and_msgs_in_order(tmp_path, capsys):
    import csv

    from pyverifier.insn import Insn, encode
    from pyverifier.program import Expect, Program
    from reports.paths import log_relpath

    def prog(name, verdict, msgs=(), tags=()):
        extra = {"kprogs_file": "progs/verifier_x.c", **({"msgs": list(msgs)} if msgs else {})}
        return Program(id=f"kprogs-9.9/verifier_x/{name}", source="kprogs-9.9", name=f"verifier_x/{name}",
                       prog_type=1, insns=encode([Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]),
                       tags=("simple", "kprogs", *tags), expect=Expect(verdict=verdict, extra=extra))

    rows = [(prog("a", "accept", ["r0 = 0", "processed {{[0-9]+}} insns"]), "accept",
             "0: (b7) r0 = 0\nprocessed 2 insns"),
            (prog("b", "reject", ["R0 !read_ok", "exit"]), "reject", "0: (95) exit\nR0 !read_ok"),  # wrong order
            (prog("c", "reject", ["boom"]), "accept", "boom"),  # verdict differs: msgs not checked
            (prog("d", "accept", tags=(ks.TAG_TRAMPOLINE,)), "error", "")]
    run = tmp_path / "run"
    run.mkdir()
    (run / "programs.jsonl").write_text("".join(p.to_json() + "\n" for p, _, _ in rows))
    with open(run / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["program_id", "verifier", "verdict", "privileged", "message", "verifier_kind", "log_path"])
        for p, verdict, log in rows:
            rel = log_relpath("kernel", p.id)
            (run / rel).parent.mkdir(parents=True, exist_ok=True)
            (run / rel).write_text(log)
            w.writerow([p.id, "kernel-9.9", verdict, "True", "", "kernel", rel])
    a = kp.agreement(run)
    assert (a["programs"], a["agree"]) == (4, 2) and a["without_env"]["agree"] == 2
    assert a["msgs"]["checked"] == 2 and a["msgs"]["matched"] == 1
    assert a["msgs"]["missing"] == [{"id": "kprogs-9.9/verifier_x/b", "pattern": "exit", "log_level": None}]
    assert a["disagreements_by_file"] == {"progs/verifier_x.c": 1}
    assert kp.main(["--agreement", str(run)]) == 0
    out = capsys.readouterr().out
    assert "2/4 (50.00%)" in out and "matched in order" in out and "1/2 (50.00%)" in out
    assert kp.main(["--agreement", str(tmp_path / "nope")]) == 1
