"""The corpus: asm file format, corpus loading (builtin, directories, JSON Lines), bcc, live kernel."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import Expect, MapSpec, Program
from selftests.asmfile import (
    CorpusError,
    format_header,
    load_asm_file,
    parse_asm_text,
    parse_map_spec,
    parse_prog_flags,
    size_class,
    with_expect,
)
from selftests.bcc_c import relocate_maps
from selftests.corpus import builtin_dir, load_corpus, load_jsonl, write_jsonl

FULL = """\
# name: sample
# prog_type: sched_cls
# attach_type: cgroup_inet_egress
# prog_flags: strict_alignment, test_state_freq
# license: Dual BSD/GPL
# tags: map, helper
# tags: branch
# expect: reject
# expect_message: R0 invalid mem access 'map_value_or_null'
# map: counts type=hash key=4 value=8 entries=16
# map: ro type=array key=4 value=8 entries=1 flags=0x80 frozen init=0102
# description: first line
# a free comment, not a field
# description: second line

*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[ro]
call bpf_map_lookup_elem#1
r0 = *(u64 *)(r0 +0)
exit
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# --- the asm file header ------------------------------------------------------
def test_header_fields(tmp_path):
    p = load_asm_file(write(tmp_path, "whatever.s", FULL), source="mine")
    assert p.id == "mine/sample" and p.source == "mine" and p.name == "sample"
    assert p.prog_type == uapi.PROG_TYPES["sched_cls"]
    assert p.expected_attach_type == uapi.ATTACH_TYPES["cgroup_inet_egress"]
    assert p.prog_flags == uapi.PROG_FLAGS["strict_alignment"] | uapi.PROG_FLAGS["test_state_freq"]
    assert p.license == "Dual BSD/GPL"
    assert p.tags == ("simple", "map", "helper", "branch")
    assert p.expect == Expect(verdict="reject", message="R0 invalid mem access 'map_value_or_null'")
    assert p.maps == (
        MapSpec("counts", uapi.MAP_TYPES["hash"], 4, 8, 16),
        MapSpec("ro", uapi.MAP_TYPES["array"], 4, 8, 1, flags=0x80, init=b"\x01\x02", frozen=True),
    )
    assert p.source_lang == "asm" and p.source_text == FULL
    insns = p.decoded()
    assert len(insns) == 8  # ld_imm64 takes two slots
    assert insns[3] == Insn(0x18, 1, 1, 0, 1)  # map[ro] is map index 1
    assert insns[5] == Insn(0x85, 0, 0, 0, 1)


def test_defaults_and_c_source(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "prog.c").write_text("int prog(void *ctx) { return 0; }\n")
    d = tmp_path / "asm"
    d.mkdir()
    p = load_asm_file(write(d, "tiny.s", "# prog_type: xdp\n# c_source: ../c/prog.c\nr0 = 2\nexit\n"))
    assert p.id == "builtin/tiny" and p.name == "tiny"
    assert p.license == "GPL" and p.prog_flags == 0 and p.expected_attach_type is None
    assert p.expect == Expect() and p.maps == ()
    assert p.tags == ("simple",)
    assert p.source_lang == "c" and p.source_text.startswith("int prog")
    assert p.decoded() == [Insn(0xB7, 0, 0, 0, 2), Insn(0x95, 0, 0, 0, 0)]


def test_prog_flags_as_number_and_size_classes():
    assert parse_prog_flags("0x5") == 5
    assert parse_prog_flags("BPF_F_SLEEPABLE") == uapi.PROG_FLAGS["sleepable"]
    with pytest.raises(ValueError, match="unknown prog flag"):
        parse_prog_flags("fast")
    assert [size_class(n) for n in (1, 99, 100, 999, 1000, 9999, 10000)] == [
        "simple", "simple", "medium", "medium", "complex", "complex", "maximum"]


def test_size_class_tag_must_match(tmp_path):
    with pytest.raises(CorpusError, match="size class simple") as e:
        load_asm_file(write(tmp_path, "x.s", "# prog_type: xdp\n# tags: medium, alu\nr0 = 2\nexit\n"))
    assert e.value.line == 2


def test_with_expect_replaces_lines():
    text = with_expect(FULL, "accept")
    assert "# expect: accept\n" in text and "expect_message" not in text
    p = parse_asm_text(text, "x.s")
    assert p.expect == Expect(verdict="accept")
    again = parse_asm_text(with_expect(text, "reject", "R1 !read_ok"), "x.s")
    assert again.expect == Expect("reject", "R1 !read_ok")
    assert again.insns == p.insns and again.maps == p.maps
    no_expect = "# prog_type: xdp\n# tags: alu\nr0 = 2\nexit\n"
    assert with_expect(no_expect, "accept").split("\n")[2] == "# expect: accept"


def test_format_header_round_trip():
    maps = (MapSpec("m", 2, 4, 16, 1, flags=0x80, init=b"\xaa", frozen=True), MapSpec("rb", 27, 0, 0, 4096))
    head = format_header(name="n", prog_type=6, maps=maps, attach_type=37, prog_flags=3, license="MIT",
                         tags=("alu", "map"), expect=Expect("reject", "boom"), description="a\nb")
    p = parse_asm_text(head + "r1 = map[rb]\nr0 = 2\nexit\n", "n.s", source="s")
    assert (p.name, p.prog_type, p.maps, p.expected_attach_type, p.prog_flags, p.license) == ("n", 6, maps, 37, 3, "MIT")
    assert p.tags == ("simple", "alu", "map") and p.expect == Expect("reject", "boom")


# --- bad input: one clear error naming the file and the line -------------------
@pytest.mark.parametrize(
    "text, line, what",
    [
        ("# prog_type: xdp\n", 1, "no instructions"),
        ("# prog_type: xdp\nr0 = 2\nr0 = *(u32 *)(r1\n", 3, "r0 = *(u32 *)(r1"),  # truncated line
        ("# prog_type: xdp\nr0 = 2\nif r0 == 0x0 goto nowhere\nexit\n", 3, "nowhere"),
        ("# prog_type: sockfilter\nexit\n", 1, "unknown program type 'sockfilter'"),
        ("r0 = 0\nexit\n", None, "lacks '# prog_type"),
        ("# prog_type: xdp\n# attach_type: nope\nexit\n", 2, "unknown attach type"),
        ("# prog_type: xdp\n# map: m type=hash key=4 value=8\nexit\n", 2, "missing entries="),
        ("# prog_type: xdp\n# map: m type=hashmap key=4 value=8 entries=1\nexit\n", 2, "unknown map type"),
        ("# prog_type: xdp\n# map: m type=hash key=four value=8 entries=1\nexit\n", 2, "not a number"),
        ("# prog_type: xdp\n# map: m type=hash key=4 value=8 entries=1 colour=red\nexit\n", 2, "unknown attribute"),
        ("# prog_type: xdp\n# map: type=hash key=4 value=8 entries=1\nexit\n", 2, "first word must be the map's name"),
        ("# prog_type: xdp\n# map: m type=array key=4 value=2 entries=1 init=010203\nexit\n", 2, "longer than"),
        ("# prog_type: xdp\n# map: m type=array key=4 value=2 entries=1 init=zz\nexit\n", 2, "not hex"),
        ("# prog_type: xdp\n# map: m type=array key=4 value=8 entries=1\n# map: m type=hash key=4 value=8 entries=1\n"
         "exit\n", 3, "declared twice"),
        ("# prog_type: xdp\n# expect: maybe\nexit\n", 2, "expect must be one of"),
        ("# prog_type: xdp\n# expect_message: boom\nexit\n", 2, "needs '# expect: reject'"),
        ("# prog_type: xdp\n# prog_type: kprobe\nexit\n", 2, "given twice"),
        ("# prog_type: xdp\n# colour: blue\nexit\n", 2, "unknown header key 'colour'"),
        ("# prog_type: xdp\n# prog_flags: fast\nexit\n", 2, "unknown prog flag"),
        ("# prog_type: xdp\n# name: bad name!\nexit\n", 1, "must be letters"),
        ("# prog_type: xdp\n# c_source: missing.c\nexit\n", 2, "cannot read"),
        ("# prog_type: xdp\nr1 = map[nomap]\nexit\n", 2, "nomap"),
    ],
)
def test_bad_asm_file(tmp_path, text, line, what):
    path = write(tmp_path, "bad.s", text)
    with pytest.raises(CorpusError) as e:
        load_asm_file(path)
    err = e.value
    assert err.file == str(path)
    assert what in err.what
    if line is not None and line != 1:
        assert err.line == line
    assert str(err).startswith(str(path))


def test_map_spec_parse():
    m = parse_map_spec("events type=ringbuf key=0 value=0 entries=4096")
    assert m == MapSpec("events", uapi.MAP_TYPES["ringbuf"], 0, 0, 4096)
    assert parse_map_spec("x type=5 key=0x4 value=8 entries=2 flags=1").flags == 1


def test_unreadable_and_binary_files(tmp_path):
    with pytest.raises(CorpusError, match="cannot read"):
        load_asm_file(tmp_path / "absent.s")
    p = tmp_path / "bin.s"
    p.write_bytes(b"# prog_type: xdp\n\xff\xfe\n")
    with pytest.raises(CorpusError, match="not UTF-8") as e:
        load_asm_file(p)
    assert e.value.line == 2


# --- corpora: directories, single files, JSON Lines ----------------------------
def test_directory_corpus_sorted_with_errors(tmp_path):
    d = tmp_path / "mycorpus"
    d.mkdir()
    write(d, "b.s", "# name: zeta\n# prog_type: xdp\nr0 = 2\nexit\n")
    write(d, "a.s", "# name: alpha\n# prog_type: xdp\nr0 = 1\nexit\n")
    write(d, "c.s", "# prog_type: xdp\nr0 = \nexit\n")
    write(d, "d.s", "# name: alpha\n# prog_type: kprobe\nr0 = 0\nexit\n")
    write(d, "notes.txt", "not a program")
    programs, errors = load_corpus(d)
    assert [p.id for p in programs] == ["mycorpus/alpha", "mycorpus/zeta"]
    assert programs[0].prog_type == uapi.PROG_TYPES["xdp"]  # a.s sorts first and wins
    assert len(errors) == 2
    by_file = {Path(e.file).name: e for e in errors}
    assert by_file["c.s"].line == 2
    assert "duplicate program id 'mycorpus/alpha'" in by_file["d.s"].what


def test_single_file_and_missing(tmp_path):
    d = tmp_path / "pack"
    d.mkdir()
    progs, errs = load_corpus(write(d, "one.s", "# prog_type: xdp\nr0 = 2\nexit\n"))
    assert errs == [] and [p.id for p in progs] == ["pack/one"]
    progs, errs = load_corpus(tmp_path / "nothing.s")
    assert progs == [] and "no such file" in errs[0].what
    progs, errs = load_corpus(write(tmp_path, "x.txt", "hi"))
    assert progs == [] and "unknown corpus file kind" in errs[0].what


def full_program() -> Program:
    return Program(
        id="t/full", source="t", name="full", prog_type=uapi.PROG_TYPES["cgroup_skb"],
        insns=encode([Insn(0x18, 1, 2, 0, 0), Insn(0, 0, 0, 0, 8), Insn(0xB7, 0, 0, 0, 1), Insn(0x95, 0, 0, 0, 0)]),
        maps=(MapSpec("g", 2, 4, 16, 1, flags=0x80, init=bytes(range(16)), frozen=True),
              MapSpec("outer", 12, 4, 4, 2, inner=MapSpec("in", 2, 4, 8, 1))),
        expected_attach_type=1, attach_to="some_func", prog_flags=9, license="Dual MIT/GPL",
        tags=("simple", "map"), expect=Expect("reject", "boom", {"retval": 3}),
        source_text="r1 = ...", source_lang="asm",
    )


def test_jsonl_round_trip(tmp_path):
    builtin, errs = load_corpus("builtin")
    assert errs == []
    programs = [full_program(), *builtin]
    for p in programs:
        assert Program.from_json(p.to_json()) == p
    path = tmp_path / "c.jsonl"
    assert write_jsonl(programs, path) == len(programs)
    assert len(path.read_text().splitlines()) == len(programs)
    back, errs = load_corpus(path)
    assert errs == [] and back == programs  # JSON Lines keeps its order


def test_jsonl_bad_lines_rest_loads(tmp_path):
    good = [full_program(), Program(id="t/b", source="t", name="b", prog_type=6, insns=b"\x95" + bytes(7))]
    lines = [
        good[0].to_json(),
        "{not json",
        json.dumps({"name": "nope", "insns": "95"}),  # lacks prog_type
        "",
        json.dumps({"name": "odd", "prog_type": "xdp", "insns": "950000"}),  # not a multiple of 8
        json.dumps({"name": "mt", "prog_type": "warp_drive", "insns": "9500000000000000"}),
        good[0].to_json(),  # duplicate id
        good[1].to_json(),
        "[1, 2]",
    ]
    path = write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n")
    programs, errors = load_corpus(path)
    assert programs == good
    assert [e.line for e in errors] == [2, 3, 5, 6, 7, 9]
    assert all(e.file == str(path) for e in errors)
    assert "not valid JSON" in errors[0].what
    assert "prog_type" in errors[1].what
    assert "multiple of 8" in errors[2].what
    assert "warp_drive" in errors[3].what
    assert "duplicate program id 't/full'" in errors[4].what and "line 1" in errors[4].what
    assert "JSON object" in errors[5].what


def test_jsonl_in_directory(tmp_path):
    d = tmp_path / "mix"
    d.mkdir()
    write_jsonl([full_program()], d / "x.jsonl")
    write(d, "y.s", "# name: full\n# prog_type: xdp\nr0 = 2\nexit\n")
    programs, errors = load_corpus(d)
    assert [p.id for p in programs] == ["mix/full", "t/full"]
    assert errors == []
    programs, errors = load_jsonl(tmp_path / "absent.jsonl")
    assert programs == [] and "cannot read" in errors[0].what


def test_relocate_maps_by_fd():
    by_fd = {7: MapSpec("a", 1, 4, 8, 16), 9: MapSpec("b", 2, 4, 8, 1)}
    insns = [
        Insn(0x18, 1, 1, 0, 9), Insn(0, 0, 0, 0, 0),
        Insn(0x18, 2, 2, 0, 7), Insn(0, 0, 0, 0, 4),
        Insn(0x18, 3, 1, 0, 9), Insn(0, 0, 0, 0, 0),
        Insn(0x18, 4, 0, 0, 7), Insn(0, 0, 0, 0, 0),  # a plain constant that happens to equal an fd
    ]
    out, maps = relocate_maps(insns, by_fd)
    assert maps == [by_fd[9], by_fd[7]]
    assert [i.imm for i in out] == [0, 0, 1, 4, 0, 0, 7, 0]
    from selftests.bcc_c import BccError

    with pytest.raises(BccError, match="fd 5"):
        relocate_maps([Insn(0x18, 1, 1, 0, 5), Insn(0, 0, 0, 0, 0)], by_fd)


# --- the built-in corpus ------------------------------------------------------
BUILTIN, BUILTIN_ERRORS = load_corpus("builtin")
SIZE_CLASSES = {"simple", "medium", "complex", "maximum"}


def test_builtin_corpus_loads():
    assert BUILTIN_ERRORS == []
    assert len(BUILTIN) >= 40
    ids = [p.id for p in BUILTIN]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert all(p.id == f"builtin/{p.name}" for p in BUILTIN)
    for p in BUILTIN:
        assert p.expect.verdict in ("accept", "reject"), p.id
        if p.expect.verdict == "reject":
            assert p.expect.message, f"{p.id}: a rejection needs the kernel's message"
        classes = [t for t in p.tags if t in SIZE_CLASSES]
        assert classes == [size_class(p.insn_count)], p.id
        assert len(p.tags) >= 2, f"{p.id}: tag what it exercises"
    verdicts = Counter(p.expect.verdict for p in BUILTIN)
    assert verdicts["accept"] >= 15 and verdicts["reject"] >= 15
    assert sum("medium" in p.tags for p in BUILTIN) >= 2
    types = {uapi.prog_type_name(p.prog_type) for p in BUILTIN}
    assert {"socket_filter", "sched_cls", "xdp", "kprobe", "tracepoint", "raw_tracepoint"} <= types
    messages = [p.expect.message for p in BUILTIN if p.expect.verdict == "reject"]
    assert len(set(messages)) >= len(messages) // 2  # mostly distinct reasons (tests/test_builtin_corpus.py)


def test_builtin_c_programs_carry_their_source():
    by_name = {p.name: p for p in BUILTIN}
    for name in ("simple_return", "bounds_check", "map_access", "helper_calls"):
        p = by_name[name]
        assert p.source_lang == "c"
        assert p.source_text == (builtin_dir().parent.parent / "c" / f"{name}.c").read_text()


def test_builtin_dir_loads_by_path_identically():
    programs, errors = load_corpus(builtin_dir())
    assert errors == [] and programs == BUILTIN


@pytest.mark.bpf
@pytest.mark.parametrize("program", BUILTIN, ids=[p.name for p in BUILTIN])
def test_builtin_verdicts_match_live_kernel(program):
    import kernel_loader

    # level 2, as check_corpus records the expectations (at level 1 the kernel may glue its reason onto an
    # instruction line, e.g. "infinite loop detected", which the message extraction does not split off)
    r = kernel_loader.load(program, log_level=2, info=False)
    assert r.verdict == program.expect.verdict, f"{program.id}: kernel said {r.verdict}: {r.message}"
    if program.expect.message:
        assert program.expect.message in r.message, (
            f"{program.id}: expected {program.expect.message!r} in the kernel's reason {r.message!r}"
        )


# --- bcc ----------------------------------------------------------------------
@pytest.mark.bcc
def test_bcc_compiles_simple_return_like_checked_in():
    from selftests.bcc_c import BccError, compile_c

    c_file = builtin_dir().parent.parent / "c" / "simple_return.c"
    try:
        (compiled,) = compile_c(c_file)
    except BccError as e:
        pytest.skip(f"bcc cannot compile here: {e}")
    checked_in = load_asm_file(builtin_dir() / "simple_return.s")
    assert compiled.id == checked_in.id
    assert decode(compiled.insns) == decode(checked_in.insns)
    assert compiled.maps == checked_in.maps
    assert compiled.prog_type == checked_in.prog_type and compiled.license == checked_in.license
    assert compiled.source_text == checked_in.source_text
    assert set(compiled.tags) == set(checked_in.tags)


@pytest.mark.bcc
def test_bcc_maps_become_map_specs(tmp_path):
    from selftests.bcc_c import BccError, compile_c

    c_file = write(tmp_path, "m.c", "// prog_type: xdp\n// tags: map\n"
                   "BPF_HASH(h, u32, u64, 32);\nBPF_ARRAY(a, u32, 3);\n"
                   "int m(struct xdp_md *ctx) { u32 k = 1; u64 *v = h.lookup(&k); u32 *w = a.lookup(&k);\n"
                   "  return (v ? 1 : 0) + (w ? 1 : 0); }\n")
    try:
        (p,) = compile_c(c_file, source="t")
    except BccError as e:
        pytest.skip(f"bcc cannot compile here: {e}")
    assert p.id == "t/m" and p.prog_type == uapi.PROG_TYPES["xdp"] and p.tags == ("simple", "map")
    assert p.maps == (MapSpec("h", 1, 4, 8, 32), MapSpec("a", 2, 4, 4, 3))
    refs = [i.imm for i in p.decoded() if i.code == 0x18 and i.src == 1]
    assert refs == [0, 1]
