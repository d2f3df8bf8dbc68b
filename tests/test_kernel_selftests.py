"""Importing the kernel's test_verifier tests: JSON record -> Program, the C dumper, a real tree."""
from __future__ import annotations

import csv
import json
import struct
import os
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from kernel_loader.vmlinux import index_btf
from pyverifier.program import Expect, Program
from reports.paths import log_relpath, safe_name
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


def test_every_fixture_builds():
    for name, factory in ks.FIXTURES.items():
        m = factory()
        assert m.name and uapi.map_type_name(m.type) != str(m.type), name
    small = ks.FIXTURES["map_array_small"]()
    assert small.value_size == 1 and small.init == bytes([28])
    assert ks.FIXTURES["map_array_ro"]().flags == ks.BPF_F_RDONLY_PROG
    ring = ks.FIXTURES["map_ringbuf"]()
    assert (ring.key_size, ring.value_size, ring.max_entries) == (0, 0, 4096)


@pytest.mark.parametrize("kw, reason", [
    ({"kfunc_fixups": [{"kfunc": "bpf_kfunc_call_test1", "insn_idx": 2}]}, ks.SKIP_KFUNC),
    ({"fixups": {"map_whatever": [1]}, "insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_UNKNOWN_FIXTURE),
    ({"btf_types": True}, ks.SKIP_PROG_BTF),
    ({"func_info_cnt": 2}, ks.SKIP_PROG_BTF),
    ({"insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_RAW_MAP_FD),
    ({"fixups": {"map_hash_8b": [1]}, "insns": [MOV_R0_0, MOV_R0_0, EXIT]}, ks.SKIP_BAD_FIXUP),
    ({"fixups": {"map_hash_8b": [9]}, "insns": [MOV_R0_0, *ld_map(1, 0), EXIT]}, ks.SKIP_BAD_FIXUP),
    ({"insns": "00ff"}, ks.SKIP_BAD_INSNS),
])
def test_skips_carry_their_reason(kw, reason):
    s = conv(rec(**kw))
    assert isinstance(s, ks.Skipped) and s.reason == reason
    assert s.id == "ksft-6.1/sample test" and s.file == "verifier/sample.c" and s.detail


def test_program_btf_of_a_test_is_rebuilt_like_test_verifier():
    from pyverifier.btf import FUNC, Btf

    # int type, FUNC_PROTO int(void), FUNC "main": what a test's BTF_TYPE_ENC lines give
    types = struct.pack("<IIIIIIIII", 1, 0x01000000, 4, 0x01000020, 0, 0x0D000000, 1, 5, 0x0C000000) + \
        struct.pack("<I", 2)
    strings = b"\0int\0main\0".ljust(256, b"\0")
    p = conv(rec(btf_types=True, btf_types_hex=types.hex(), btf_strings_hex=strings.hex(), func_info_cnt=1,
                 func_info=[[0, 3]]))
    assert isinstance(p, Program) and p.func_info == ((0, 3),)
    b = Btf.parse(p.btf)
    assert b.type(3).kind == FUNC and b.type(3).name == "main" and len(p.btf) == 24 + len(types) + 256


def test_kfunc_name_on_other_prog_types_is_ignored_like_test_verifier():
    p = conv(rec(kfunc="bpf", prog_type=3))
    assert isinstance(p, Program) and p.expect.extra["kfunc"] == "bpf"
    assert p.attach_to is None


# --- BTF-backed fixtures ---------------------------------------------------------------------------

BTF_KINDS = {"struct": 4, "ptr": 2, "type_tag": 18, "int": 1}


def btf_names(blob: bytes, kind: str) -> dict[str, int]:
    return {name: tid for (name, _k), tid in index_btf(blob, frozenset({BTF_KINDS[kind]})).items()}


def test_fixture_btf_has_test_verifiers_type_ids():
    blob = ks.fixture_btf()
    assert btf_names(blob, "int") == {"int": 1}
    assert btf_names(blob, "struct") == {"bpf_spin_lock": 2, "val": 3, "bpf_timer": 4, "timer": 5,
                                         "prog_test_ref_kfunc": 6, "prog_test_member": 7, "btf_ptr": 14}
    # one unreferenced kptr (tag [8]) and two referenced ones (tag [9] on two targets), later spelling
    assert ks.KPTR_TAGS == ("kptr_untrusted", "kptr")
    assert btf_names(blob, "type_tag") == {"kptr_untrusted": 8, "kptr": 9}
    old = ks.fixture_btf(ks.KPTR_TAGS_6_1)
    assert btf_names(old, "type_tag") == {"kptr": 8, "kptr_ref": 9}
    assert len(old) != len(blob) and btf_names(old, "struct") == btf_names(blob, "struct")


@pytest.mark.parametrize("fixture, mtype, value, entries, flags, value_id", [
    ("map_spin_lock", "array", 8, 1, 0, 3),
    ("sk_storage_map", "sk_storage", 8, 0, ks.BPF_F_NO_PREALLOC, 3),
    ("map_timer", "array", 16, 1, 0, 5),
    ("map_kptr", "array", 24, 1, 0, 14),
])
def test_btf_fixtures_as_test_verifier_creates_them(fixture, mtype, value, entries, flags, value_id):
    insns = [MOV_R0_0, *ld_map(1, 0), EXIT]
    p = conv(rec(insns=insns, fixups={fixture: [1]}))
    assert isinstance(p, Program)
    (m,) = p.maps
    assert (m.name, uapi.map_type_name(m.type), m.key_size, m.value_size, m.max_entries, m.flags) == (
        fixture, mtype, 4, value, entries, flags)
    assert m.btf == ks.fixture_btf() and (m.btf_key_type_id, m.btf_value_type_id) == (1, value_id)
    assert "btf_map" in p.tags and "map" in p.tags
    assert p.expect.extra["btf_kptr_tags"] == "kptr_untrusted kptr"
    assert Program.from_json(p.to_json()) == p


def test_kptr_spelling_choice_is_recorded():
    insns = [MOV_R0_0, *ld_map(1, 0), EXIT]
    recs = [rec(insns=insns, fixups={"map_kptr": [1]}), rec(descr="plain")]
    progs, skipped = ks.convert_all(recs, "6.1", kptr_tags=ks.KPTR_TAGS_RENAMED, tree_tags=ks.KPTR_TAGS_6_1)
    assert skipped == [] and progs[0].expect.extra["btf_kptr_tags"] == "kptr_untrusted kptr"
    assert progs[0].expect.extra["btf_kptr_tags_tree"] == "kptr kptr_ref"
    assert "btf_kptr_tags" not in progs[1].expect.extra  # no BTF map, nothing to record
    same, _ = ks.convert_all(recs, "6.1", kptr_tags=ks.KPTR_TAGS_6_1, tree_tags=ks.KPTR_TAGS_6_1)
    assert same[0].expect.extra["btf_kptr_tags"] == "kptr kptr_ref"
    assert "btf_kptr_tags_tree" not in same[0].expect.extra
    assert same[0].maps[0].btf == ks.fixture_btf(ks.KPTR_TAGS_6_1)


def test_tree_kptr_spelling_is_read_from_test_verifier(tmp_path):
    tv = tmp_path / ks.SELFTESTS_BPF / "test_verifier.c"
    tv.parent.mkdir(parents=True)
    assert ks.tree_kptr_tags(tmp_path) is None  # no file
    tv.write_text('static const char s[] = "\\0btf_ptr\\0prog_test_ref_kfunc\\0ptr\\0kptr\\0kptr_ref";\n')
    assert ks.tree_kptr_tags(tmp_path) == ks.KPTR_TAGS_6_1
    tv.write_text('static const char s[] = "\\0ptr\\0kptr\\0kptr_untrusted\\0prog_test_member";\n')
    assert ks.tree_kptr_tags(tmp_path) == ks.KPTR_TAGS_RENAMED
    tv.write_text("int x;\n")
    assert ks.tree_kptr_tags(tmp_path) is None


# --- attach targets by name ------------------------------------------------------------------------

@pytest.mark.parametrize("prog_type, eat, tag", [
    ("tracing", "trace_fentry", ks.TAG_TRAMPOLINE),
    ("tracing", "trace_fexit", ks.TAG_TRAMPOLINE),
    ("tracing", "modify_return", ks.TAG_TRAMPOLINE),
    ("lsm", "lsm_mac", ks.TAG_TRAMPOLINE),
    ("tracing", "trace_iter", None),
    ("tracing", "trace_raw_tp", None),
])
def test_tracing_and_lsm_tests_name_their_attach_target(prog_type, eat, tag):
    p = conv(rec(kfunc="dentry_open", prog_type=uapi.prog_type_num(prog_type),
                 expected_attach_type=uapi.attach_type_num(eat)))
    assert isinstance(p, Program)
    assert p.attach_to == "dentry_open" and p.expected_attach_type == uapi.attach_type_num(eat)
    assert ks.env_tags(p) == ([tag] if tag else [])
    assert Program.from_json(p.to_json()).attach_to == "dentry_open"


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
    assert sorted(by) == ['accept "quoted"\ttab', "filled", "macro test 1", "macro test 2", "reject with a map",
                          "spin lock"]
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
    assert skipped == []
    sl = by["spin lock"]
    assert [(m.name, m.btf_value_type_id) for m in sl.maps] == [("map_spin_lock", 3)]
    # the fake tree has no kptr fixture: the spelling sent is recorded, no tree spelling to compare
    assert sl.expect.extra["btf_kptr_tags"] == "kptr_untrusted kptr" and "btf_kptr_tags_tree" not in sl.expect.extra
    # a fixed seed: the random fill helper gives the same program on every import
    again, _ = ks.import_kernel_selftests(fake_tree, cache)
    assert {p.name: p.insns for p in again}["filled"] == by["filled"].insns


@needs_gcc
def test_cli_writes_corpus_and_skip_list(fake_tree, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VERIFIER_DIFF_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out" / "fake.jsonl"
    assert ks.main([str(fake_tree), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "imported 6 programs, skipped 0" in printed and "with BTF-backed fixture maps: 1" in printed
    programs, errors = load_jsonl(out)
    assert errors == [] and len(programs) == 6
    assert json.loads((tmp_path / "out" / "fake.skipped.json").read_text())["count"] == 0
    # --kptr-tags tree: the fake tree has no kptr fixture, so the later spelling stays
    assert ks.main([str(fake_tree), "--out", str(out), "--kptr-tags", "tree"]) == 0
    assert "kptr tags sent: kptr_untrusted kptr" in capsys.readouterr().out


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
    assert len(programs) >= 1300, f"only {len(programs)} programs"
    # nothing dropped silently: every test of the tree is a Program or a Skipped entry
    assert len(programs) + len(skipped) == len(ks.run_dumper(ks.build_dumper(KSRC)))
    assert set(Counter(s.reason for s in skipped)) <= {ks.SKIP_KFUNC, ks.SKIP_PROG_BTF, ks.SKIP_RAW_MAP_FD}
    assert len({p.id for p in programs} | {s.id for s in skipped}) == len(programs) + len(skipped)
    by = {p.name: p for p in programs}

    # the bpf_loop tests bring their own BTF and func_info
    loop = by["inline simple bpf_loop call"]
    assert loop.btf is not None and len(loop.func_info) == 2 and loop.func_info[0][0] == 0

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
    assert skipped_by["invalid map_fd for function call"].reason == ks.SKIP_RAW_MAP_FD

    sl = by["spin_lock: test1 success"]
    assert [(m.name, m.btf_key_type_id, m.btf_value_type_id) for m in sl.maps] == [("map_spin_lock", 1, 3)]
    btf_tests = [p for p in programs if "btf_map" in p.tags]
    assert len(btf_tests) >= 40
    # 6.1's tree spells the kptr tags the old way; the corpus sends the renamed ones and says so
    assert {(p.expect.extra["btf_kptr_tags"], p.expect.extra["btf_kptr_tags_tree"]) for p in btf_tests} == {
        ("kptr_untrusted kptr", "kptr kptr_ref")}
    kp = next(p for p in btf_tests if p.name.startswith("map_kptr"))
    assert [(m.value_size, m.btf_value_type_id) for m in kp.maps] == [(24, 14)]

    d = by["d_path accept"]
    assert d.attach_to == "dentry_open" and d.expected_attach_type == uapi.attach_type_num("trace_fentry")
    assert ks.env_tags(d) == [ks.TAG_TRAMPOLINE]
    it = by["bpf_get_task_stack return R0 range is refined"]
    assert it.attach_to == "task" and ks.env_tags(it) == []


@needs_tree
@needs_gcc
@pytest.mark.bpf
def test_live_kernel_agrees_with_most_expectations(imported):
    """A sample of the imported tests through the live kernel: no tool errors, verdicts as expected."""
    import kernel_loader

    programs, _ = imported
    sample = [p for p in programs[::10] if p.insn_count < 10_000 and not ks.env_tags(p)]
    results = [(p, kernel_loader.load(p, log_level=1)) for p in sample]
    errors = [(p.id, r.message) for p, r in results if r.verdict == "error"]
    assert errors == []
    agree = sum(r.verdict == p.expect.verdict for p, r in results)
    assert agree >= 0.95 * len(results), f"{agree}/{len(results)} verdicts as expected"


@needs_tree
@needs_gcc
@pytest.mark.bpf
def test_live_kernel_takes_btf_fixtures_and_attach_targets(imported):
    """Every test with a BTF-backed fixture map or a named attach target loads (no tool error),
    apart from the environment-limited ones, and most verdicts are as expected."""
    import kernel_loader

    programs, _ = imported
    chosen = [p for p in programs if ("btf_map" in p.tags or p.attach_to) and not ks.env_tags(p)]
    assert len(chosen) >= 41
    results = [(p, kernel_loader.load(p, log_level=1)) for p in chosen]
    assert [(p.id, r.message) for p, r in results if r.verdict == "error"] == []
    agree = sum(r.verdict == p.expect.verdict for p, r in results)
    assert agree >= 0.9 * len(results), f"{agree}/{len(results)} verdicts as expected"


# --- agreement of a run with the expectations ---------------------------------------------------------

def test_cmp_str_seq_as_test_verifier():
    log = "0: R1=ctx\nR0 invalid mem access 'scalar'\nprocessed 3 insns"
    assert ks.cmp_str_seq(log, "invalid mem access")
    assert ks.cmp_str_seq(log, "R1=ctx\tinvalid mem")  # parts in order
    assert not ks.cmp_str_seq(log, "invalid mem\tR1=ctx")  # out of order
    assert not ks.cmp_str_seq(log, "R2 !read_ok")
    assert ks.cmp_str_seq(log, "")


def _fake_run(run_dir: Path, rows: list[tuple[Program, str, str]]) -> None:
    """A run directory with programs.jsonl, results.csv and logs: (program, verdict, log) per row."""
    run_dir.mkdir()
    (run_dir / "programs.jsonl").write_text("".join(p.to_json() + "\n" for p, _, _ in rows))
    with open(run_dir / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["program_id", "verifier", "verdict", "privileged", "message", "verifier_kind", "log_path"])
        for p, verdict, log in rows:
            rel = log_relpath("kernel", p.id)
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / rel).write_text(log)
            w.writerow([p.id, "kernel-9.9", verdict, "True", log.splitlines()[-1] if log else "", "kernel", rel])
            w.writerow([p.id, "pyverifier-0.1.0", "error", "True", "", "pyverifier", ""])


def test_agreement_of_a_run(tmp_path, capsys):
    def prog(name, verdict, message=None, tags=()):
        return Program(id=f"ksft-9.9/{name}", source="ksft-9.9", name=name, prog_type=1,
                       insns=encode([MOV_R0_0, EXIT]), tags=("simple", "ksft", *tags),
                       expect=Expect(verdict=verdict, message=message))
    run = tmp_path / "run"
    _fake_run(run, [
        (prog("a", "accept"), "accept", "processed 2 insns"),
        (prog("b", "reject", "R0 !read_ok"), "reject", "0: (95) exit\nR0 !read_ok"),
        (prog("c", "reject", "old message"), "reject", "new message"),
        (prog("d", "reject", "x"), "accept", ""),
        (prog("e", "accept", tags=(ks.TAG_TRAMPOLINE,)), "error", ""),
    ])
    a = ks.agreement(run)
    assert (a["programs"], a["agree"], a["agreement"]) == (5, 3, 0.6)
    assert a["verifier"] == "kernel-9.9" and a["errors"] == 1
    assert a["verdicts"] == {"accept": 2, "error": 1, "reject": 2}
    assert a["without_env"] == {"programs": 4, "agree": 3, "agreement": 0.75}
    assert a["by_expected"]["reject"] == {"programs": 3, "agree": 2, "agreement": 0.6667}
    assert [e["id"] for e in a["environment_limited"]] == ["ksft-9.9/e"]
    assert [(d["id"], d["expected"], d["got"]) for d in a["disagreements"]] == [("ksft-9.9/d", "reject", "accept")]
    assert a["messages"] == {"checked": 2, "found": 1, "missing": ["ksft-9.9/c"]}
    assert ks.main(["--agreement", str(run)]) == 0
    out = capsys.readouterr().out
    assert "3/5 (60.00%)" in out and "without the 1 environment-limited tests: 3/4 (75.00%)" in out
    assert ks.main(["--agreement", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agree"] == 3
    assert ks.main(["--agreement", str(tmp_path / "nope")]) == 1

