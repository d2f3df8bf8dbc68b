"""Importing the kernel's test_verifier tests: JSON record -> Program, the C dumper, a real tree."""
from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import Program
from reports.paths import safe_name
from selftests import kernel_selftests as ks
from selftests.corpus import load_jsonl

KSRC = Path(os.environ.get("VD_KSRC", "/var/cache/verifier-diff/linux-source-6.1"))
TREE_MISSING = (
    f"no kernel source tree at {KSRC} (set VD_KSRC): apt-get install linux-source-6.1, then "
    f"tar xf /usr/src/linux-source-6.1.tar.xz -C {KSRC.parent} "
    "linux-source-6.1/Makefile linux-source-6.1/tools linux-source-6.1/include (scripts/setup.sh does)"
)
needs_tree = pytest.mark.skipif(not (KSRC / ks.SELFTESTS_BPF / "test_verifier.c").exists(), reason=TREE_MISSING)
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc: apt-get install gcc")

MOV_R0_0 = Insn(0xB7, 0, 0, 0, 0)
EXIT = Insn(0x95, 0, 0, 0, 0)


def ld_map(dst: int, imm: int, src: int = 1) -> list[Insn]:
    return [Insn(0x18, dst, src, 0, imm), Insn(0, 0, 0, 0, 0)]


def rec(**kw) -> dict:
    """A dumper record with test_verifier's defaults."""
    base = {
        "file": "sample.c", "index": 0, "descr": "sample test", "fill_helper": False,
        "insns": encode([MOV_R0_0, EXIT]).hex(), "prog_type": 0, "expected_attach_type": 0, "flags": 0,
        "result": "ACCEPT", "result_unpriv": "UNDEF", "errstr": None, "errstr_unpriv": None,
        "retval": 0, "retval_unpriv": 0, "runs": 0, "retvals": [], "insn_processed": 0, "kfunc": None,
        "func_info_cnt": 0, "btf_types": False, "expected_insns": False, "unexpected_insns": False,
        "fixups": {}, "kfunc_fixups": [],
    }
    base.update(kw)
    if isinstance(base["insns"], list):
        base["insns"] = encode(base["insns"]).hex()
    return base


def conv(r: dict) -> Program | ks.Skipped:
    return ks.convert(r, "ksft-6.1", f"ksft-6.1/{r['descr']}")


# --- JSON record -> Program ---------------------------------------------------------------------

def test_plain_accept_defaults():
    p = conv(rec())
    assert isinstance(p, Program)
    assert p.id == "ksft-6.1/sample test" and p.source == "ksft-6.1" and p.name == "sample test"
    assert p.prog_type == uapi.prog_type_num("socket_filter")  # test_verifier's default for 0
    assert p.expected_attach_type is None
    assert p.prog_flags == uapi.PROG_FLAGS["test_rnd_hi32"]  # test_verifier always sets it
    assert p.expect.verdict == "accept" and p.expect.message is None
    assert p.expect.extra == {"ksft_file": "verifier/sample.c", "ksft_index": 0, "result": "ACCEPT"}
    assert p.maps == () and decode(p.insns) == [MOV_R0_0, EXIT]
    assert p.tags[:3] == ("simple", "ksft", "ksft:sample")


def test_reject_fields_and_extra():
    p = conv(rec(result="REJECT", errstr="R0 !read_ok", result_unpriv="REJECT", errstr_unpriv="R1 leaks addr",
                 retval=7, retval_unpriv=3, runs=2, retvals=[7, 9], insn_processed=12, prog_type=6,
                 expected_attach_type=37, flags=1, expected_insns=True, fill_helper=True))
    assert p.prog_type == uapi.prog_type_num("xdp") and p.expected_attach_type == uapi.attach_type_num("xdp")
    assert p.expect.verdict == "reject" and p.expect.message == "R0 !read_ok"
    x = p.expect.extra
    assert x["result_unpriv"] == "REJECT" and x["errstr_unpriv"] == "R1 leaks addr"
    assert (x["retval"], x["retval_unpriv"], x["retvals"], x["insn_processed"]) == (7, 3, [7, 9], 12)
    assert x["flags"] == 1 and x["checks_xlated"] is True and x["fill_helper"] is True
    # the record survives the JSON Lines round trip
    assert Program.from_json(p.to_json()) == p


def test_verbose_accept_and_undef_result():
    p = conv(rec(result="VERBOSE_ACCEPT", errstr="processed 3 insns"))
    assert p.expect.verdict == "accept" and p.expect.message is None
    assert p.expect.extra["errstr"] == "processed 3 insns" and p.expect.extra["result"] == "VERBOSE_ACCEPT"
    # test_verifier expects a failed load unless the result is ACCEPT or VERBOSE_ACCEPT
    u = conv(rec(result="UNDEF", errstr="x"))
    assert u.expect.verdict == "reject" and u.expect.message == "x" and u.expect.extra["result"] == "UNDEF"
    s = conv(rec(result="SOMETHING"))
    assert isinstance(s, ks.Skipped) and s.reason == ks.SKIP_UNKNOWN_RESULT


@pytest.mark.parametrize("test_flags, prog_flags", [
    (0, 0b100),
    (1, 0b110),  # F_NEEDS_EFFICIENT_UNALIGNED_ACCESS -> BPF_F_ANY_ALIGNMENT
    (2, 0b101),  # F_LOAD_WITH_STRICT_ALIGNMENT -> BPF_F_STRICT_ALIGNMENT
    (3, 0b111),
    (8, 0b1100),  # BPF_F_TEST_STATE_FREQ passed through
    (9, 0b1111),  # flags beyond bit 1 are ORed in whole, so bit 0 also lands as STRICT_ALIGNMENT
])
def test_prog_flags_as_test_verifier(test_flags, prog_flags):
    assert ks.prog_flags_of(test_flags) == prog_flags


def test_fixtures_become_maps_and_indices():
    insns = [MOV_R0_0, *ld_map(1, 0), *ld_map(2, 0), *ld_map(3, 0, src=2), Insn(0x85, 0, 0, 0, 1), EXIT]
    p = conv(rec(insns=insns, fixups={"map_hash_8b": [1], "map_array_48b": [3, 5], "map_in_map": []}))
    assert [m.name for m in p.maps] == ["map_hash_8b", "map_array_48b", "map_in_map"]
    h, a, mim = p.maps
    assert (uapi.map_type_name(h.type), h.key_size, h.value_size, h.max_entries, h.flags) == ("hash", 8, 8, 1, 1)
    assert (uapi.map_type_name(a.type), a.key_size, a.value_size, a.max_entries) == ("array", 4, 48, 1)
    # update_map(): .index = 28, .foo[6] = 0xabcdef12
    assert a.init[:4] == (28).to_bytes(4, "little") and a.init[28:32] == (0xABCDEF12).to_bytes(4, "little")
    assert uapi.map_type_name(mim.type) == "array_of_maps" and mim.inner.key_size == 4
    got = decode(p.insns)
    assert got[1].imm == 0 and got[3].imm == 1 and got[5].imm == 1 and got[5].src == 2
    assert got[2] == Insn(0, 0, 0, 0, 0)  # second slots untouched
    assert "map" in p.tags and "helper" in p.tags


def test_every_plain_fixture_builds():
    for name, factory in ks.FIXTURES.items():
        if isinstance(factory, str):
            continue
        m = factory()
        assert m.name and uapi.map_type_name(m.type) != str(m.type), name
    small = ks.FIXTURES["map_array_small"]()
    assert small.value_size == 1 and small.init == bytes([28])
    assert ks.FIXTURES["map_array_ro"]().flags == ks.BPF_F_RDONLY_PROG
    ring = ks.FIXTURES["map_ringbuf"]()
    assert (ring.key_size, ring.value_size, ring.max_entries) == (0, 0, 4096)


@pytest.mark.parametrize("kw, reason", [
    ({"kfunc_fixups": [{"kfunc": "bpf_kfunc_call_test1", "insn_idx": 2}]}, ks.SKIP_KFUNC),
    ({"fixups": {"map_spin_lock": [1]}, "insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_BTF_MAP),
    ({"fixups": {"map_whatever": [1]}, "insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_UNKNOWN_FIXTURE),
    ({"btf_types": True}, ks.SKIP_PROG_BTF),
    ({"func_info_cnt": 2}, ks.SKIP_PROG_BTF),
    ({"kfunc": "d_path", "prog_type": 26}, ks.SKIP_ATTACH_BTF),
    ({"insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_RAW_MAP_FD),
    ({"fixups": {"map_hash_8b": [1]}, "insns": [MOV_R0_0, MOV_R0_0, EXIT]}, ks.SKIP_BAD_FIXUP),
    ({"fixups": {"map_hash_8b": [9]}, "insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_BAD_FIXUP),
    ({"insns": "00ff"}, ks.SKIP_BAD_INSNS),
])
def test_skips_carry_their_reason(kw, reason):
    s = conv(rec(**kw))
    assert isinstance(s, ks.Skipped) and s.reason == reason
    assert s.id == "ksft-6.1/sample test" and s.file == "verifier/sample.c" and s.detail


def test_kfunc_name_on_other_prog_types_is_ignored_like_test_verifier():
    p = conv(rec(kfunc="bpf", prog_type=3))
    assert isinstance(p, Program) and p.expect.extra["kfunc"] == "bpf"


def test_unique_ids_also_after_file_name_sanitising():
    names = ["a b", "a b", "a_b", "a:b", "c"]
    ids = ks.unique_ids("ksft-6.1", names)
    assert ids[0] == "ksft-6.1/a b" and ids[1] == "ksft-6.1/a b #2" and ids[4] == "ksft-6.1/c"
    # "a_b" would share the log file name of "a b"; "a b #2" took "#2" already
    assert ids[2] == "ksft-6.1/a_b #3" and ids[3].startswith("ksft-6.1/a:b #")
    assert len({safe_name(i) for i in ids}) == len(set(ids)) == len(ids)


def test_top_level_blocks_skip_comments_strings_and_directives():
    text = textwrap.dedent("""\
        /* { not a block } */
        #define MACRO { \\
            1 }
        {
            "first {",   // brace in a string
            .x = { 1, '}' },
        },
        {
            "second",
        },
        """)
    blocks = ks._top_level_blocks(text)
    assert len(blocks) == 2 and blocks[0].startswith('{\n    "first {"') and '"second"' in blocks[1]


def test_summary_and_skip_file(tmp_path):
    p = conv(rec())
    s = conv(rec(descr="other", btf_types=True))
    out = tmp_path / "k.jsonl"
    sp = ks.skipped_path(out)
    assert sp.name == "k.skipped.json"
    ks.write_skipped([s], sp)
    doc = json.loads(sp.read_text())
    assert doc["count"] == 1 and doc["by_reason"] == {ks.SKIP_PROG_BTF: 1}
    assert doc["skipped"][0]["name"] == "other"
    text = ks.summary([p], [s])
    assert "imported 1 programs, skipped 1" in text and f"skipped ({ks.SKIP_PROG_BTF}): 1" in text


def test_kernel_version_and_missing_tree(tmp_path):
    (tmp_path / "Makefile").write_text("# x\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 3\n")
    assert ks.kernel_version(tmp_path) == "6.12"
    with pytest.raises(ks.KsftError, match="no verifier tests"):
        ks.test_files(tmp_path)
    with pytest.raises(ks.KsftError, match="kernel tree"):
        ks.kernel_version(tmp_path / "nope")
    assert ks.main([str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")]) == 1


# --- the C dumper on a small self-contained tree ---------------------------------------------------

FAKE_TEST_VERIFIER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct bpf_insn { uint8_t code; uint8_t dst_reg:4; uint8_t src_reg:4; int16_t off; int32_t imm; };
#define MAX_INSNS 64
#define MAX_TEST_INSNS 100
#define MAX_FIXUPS 8
#define MAX_TEST_RUNS 2
#define MOV64_IMM(D, I) ((struct bpf_insn) { .code = 0xb7, .dst_reg = D, .imm = I })
#define EXIT_INSN() ((struct bpf_insn) { .code = 0x95 })
#define LD_MAP_FD(D, FD) ((struct bpf_insn) { .code = 0x18, .dst_reg = D, .src_reg = 1, .imm = FD }), \
	((struct bpf_insn) { .code = 0 })

struct bpf_test {
	const char *descr;
	struct bpf_insn insns[MAX_INSNS];
	struct bpf_insn *fill_insns;
	int fixup_map_hash_8b[MAX_FIXUPS];
	int fixup_map_spin_lock[MAX_FIXUPS];
	const char *errstr;
	const char *errstr_unpriv;
	int prog_len;
	enum {
		UNDEF,
		ACCEPT,
		REJECT,
		VERBOSE_ACCEPT,
	} result, result_unpriv;
	int prog_type;
	uint8_t flags;
	void (*fill_helper)(struct bpf_test *self);
	int runs;
	union {
		struct { uint32_t retval, retval_unpriv; };
		struct { uint32_t retval, retval_unpriv; } retvals[MAX_TEST_RUNS];
	};
	int expected_attach_type;
};

static void fill_random(struct bpf_test *self)
{
	int i = 0;

	while (i < self->retval)
		self->fill_insns[i++] = MOV64_IMM(0, rand() & 0xffff);
	self->fill_insns[i++] = EXIT_INSN();
	self->prog_len = i;
}

static struct bpf_test tests[] = {
#define FILL_ARRAY
#include <verifier/tests.h>
#undef FILL_ARRAY
};

int main(void) { return 0; }
"""

FAKE_A = r"""
{
	"accept \"quoted\"\ttab",
	.insns = {
	MOV64_IMM(0, 1),
	EXIT_INSN(),
	},
	.result = ACCEPT,
	.retval = 1,
},
{
	"reject with a map",
	.insns = {
	MOV64_IMM(0, 0),
	LD_MAP_FD(1, 0),
	EXIT_INSN(),
	},
	.fixup_map_hash_8b = { 1 },
	.result = REJECT,
	.errstr = "fd is bad",
	.prog_type = 6,
	.flags = 2,
	.expected_attach_type = 37,
},
"""

FAKE_B = r"""
#define TWICE(N) { "macro test " #N, .insns = { MOV64_IMM(0, N), EXIT_INSN() }, .result = ACCEPT }
TWICE(1),
TWICE(2),
{
	"filled",
	.fill_helper = fill_random,
	.retval = 5,
	.result = ACCEPT,
},
{
	"spin lock",
	.insns = { MOV64_IMM(0, 0), LD_MAP_FD(1, 0), EXIT_INSN() },
	.fixup_map_spin_lock = { 1 },
	.result = ACCEPT,
},
"""


@pytest.fixture()
def fake_tree(tmp_path):
    root = tmp_path / "linux-fake"
    d = root / ks.SELFTESTS_BPF
    (d / "verifier").mkdir(parents=True)
    (root / "Makefile").write_text("VERSION = 9\nPATCHLEVEL = 7\nSUBLEVEL = 0\n")
    (d / "test_verifier.c").write_text(FAKE_TEST_VERIFIER)
    (d / "verifier" / "b.c").write_text(FAKE_B)
    (d / "verifier" / "a.c").write_text(FAKE_A)
    return root


@needs_gcc
def test_dumper_on_a_fake_tree(fake_tree, tmp_path):
    cache = tmp_path / "cache"
    exe = ks.build_dumper(fake_tree, cache)
    records = ks.run_dumper(exe)
    assert [(r["file"], r["index"]) for r in records] == [("a.c", 0), ("a.c", 1), ("b.c", 0), ("b.c", 1),
                                                          ("b.c", 2), ("b.c", 3)]
    assert records[0]["descr"] == 'accept "quoted"\ttab' and records[0]["insn_cnt"] == 2
    assert records[1]["fixups"] == {"map_hash_8b": [1]} and records[1]["errstr"] == "fd is bad"
    assert records[4]["fill_helper"] is True and records[4]["insn_cnt"] == 6
    # cached: the same executable, no rebuild
    assert ks.build_dumper(fake_tree, cache) == exe

    programs, skipped = ks.import_kernel_selftests(fake_tree, cache)
    by = {p.name: p for p in programs}
    assert sorted(by) == ['accept "quoted"\ttab', "filled", "macro test 1", "macro test 2", "reject with a map"]
    assert all(p.source == "ksft-9.7" and p.id == f"ksft-9.7/{p.name}" for p in programs)
    r = by["reject with a map"]
    assert r.prog_type == uapi.prog_type_num("xdp") and r.expected_attach_type == 37
    assert r.prog_flags == ks.BPF_F_TEST_RND_HI32 | ks.BPF_F_STRICT_ALIGNMENT
    assert decode(r.insns) == [Insn(0xB7, 0, 0, 0, 0), Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0), EXIT]
    assert r.expect.verdict == "reject" and r.expect.message == "fd is bad"
    # the C text of each test where the file's blocks match its tests one to one
    assert r.source_lang == "c" and r.source_text.startswith('{\n\t"reject with a map"')
    assert by['accept "quoted"\ttab'].source_text is not None
    assert by["macro test 1"].source_text is None  # b.c builds tests through a macro
    assert by["filled"].insn_count == 6 and by["filled"].expect.extra["fill_helper"] is True
    assert [(s.name, s.reason) for s in skipped] == [("spin lock", ks.SKIP_BTF_MAP)]
    # a fixed seed: the random fill helper gives the same program on every import
    again, _ = ks.import_kernel_selftests(fake_tree, cache)
    assert {p.name: p.insns for p in again}["filled"] == by["filled"].insns


@needs_gcc
def test_cli_writes_corpus_and_skip_list(fake_tree, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VERIFIER_DIFF_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out" / "fake.jsonl"
    assert ks.main([str(fake_tree), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "imported 5 programs, skipped 1" in printed and f"skipped ({ks.SKIP_BTF_MAP}): 1" in printed
    programs, errors = load_jsonl(out)
    assert errors == [] and len(programs) == 5
    assert json.loads((tmp_path / "out" / "fake.skipped.json").read_text())["count"] == 1


@needs_gcc
def test_compile_error_is_reported(fake_tree, tmp_path):
    bad = fake_tree / ks.SELFTESTS_BPF / "verifier" / "c.c"
    bad.write_text("{ \"broken\", .insns = { NOT_A_MACRO(1) }, },\n")
    with pytest.raises(ks.KsftError, match="compiling the test_verifier dumper failed"):
        ks.build_dumper(fake_tree, tmp_path / "cache")


# --- the real tree (linux-source-6.1) --------------------------------------------------------------

@pytest.fixture(scope="module")
def imported():
    return ks.import_kernel_selftests(KSRC)


@needs_tree
@needs_gcc
def test_import_linux_source_tree(imported):
    programs, skipped = imported
    version = ks.kernel_version(KSRC)
    assert len(programs) >= 1280, f"only {len(programs)} programs"
    # nothing dropped silently: every test of the tree is a Program or a Skipped entry
    assert len(programs) + len(skipped) == len(ks.run_dumper(ks.build_dumper(KSRC)))
    assert set(Counter(s.reason for s in skipped)) <= {
        ks.SKIP_KFUNC, ks.SKIP_BTF_MAP, ks.SKIP_PROG_BTF, ks.SKIP_ATTACH_BTF, ks.SKIP_RAW_MAP_FD}
    assert len({p.id for p in programs} | {s.id for s in skipped}) == len(programs) + len(skipped)
    by = {p.name: p for p in programs}

    p = by["invalid and of negative number"]
    assert p.id == f"ksft-{version}/invalid and of negative number"
    assert p.expect.extra["ksft_file"] == "verifier/and.c" and p.expect.extra["ksft_index"] == 0
    assert [(uapi.map_type_name(m.type), m.key_size, m.value_size, m.max_entries, m.flags) for m in p.maps] == [
        ("hash", 8, 48, 1, ks.BPF_F_NO_PREALLOC)]
    assert decode(p.insns)[3] == Insn(0x18, 1, 1, 0, 0)
    assert p.prog_flags == ks.BPF_F_TEST_RND_HI32 | ks.BPF_F_ANY_ALIGNMENT  # F_NEEDS_EFFICIENT_UNALIGNED_ACCESS
    assert p.expect.verdict == "reject"
    assert p.expect.message == "R0 max value is outside of the allowed memory range"
    assert "BPF_LD_MAP_FD(BPF_REG_1, 0)" in p.source_text

    s = by["scale: scale test 1"]
    assert s.insn_count == 1_000_000 - 8192 * 4 + 1 and s.expect.extra["fill_helper"] is True
    assert s.expect.extra["retval"] == 42 and "maximum" in s.tags

    mim = next(p for p in programs if any(m.inner is not None for m in p.maps))
    assert uapi.map_type_name(mim.maps[0].type) == "array_of_maps"
    assert uapi.map_type_name(mim.maps[0].inner.type) == "array"

    skipped_by = {s.name: s for s in skipped}
    assert skipped_by["spin_lock: test1 success"].reason == ks.SKIP_BTF_MAP
    assert skipped_by["invalid map_fd for function call"].reason == ks.SKIP_RAW_MAP_FD
    assert skipped_by["d_path accept"].reason == ks.SKIP_ATTACH_BTF


@needs_tree
@needs_gcc
@pytest.mark.bpf
def test_live_kernel_agrees_with_most_expectations(imported):
    """A sample of the imported tests through the live kernel: no tool errors, verdicts as expected."""
    import kernel_loader

    programs, _ = imported
    sample = [p for p in programs[::10] if p.insn_count < 10_000]
    results = [(p, kernel_loader.load(p, log_level=1)) for p in sample]
    errors = [(p.id, r.message) for p, r in results if r.verdict == "error"]
    assert errors == []
    agree = sum(r.verdict == p.expect.verdict for p, r in results)
    assert agree >= 0.95 * len(results), f"{agree}/{len(results)} verdicts as expected"
