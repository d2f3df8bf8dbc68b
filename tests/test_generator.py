"""The seeded random program generator: determinism, well-formed programs, mix, kernel verdicts."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.asm import assemble, disassemble
from pyverifier.insn import encode
from pyverifier.opcodes import (
    BPF_PSEUDO_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, CALL, LD_IMM64, is_valid_opcode,
)
from pyverifier.program import Program
from selftests.corpus import load_jsonl
from selftests.gen.semantics import M64, alu, end, sext
from selftests.generator import TAGS, generate, generate_one, main, size_class

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240611


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    return generate(SEED, 300)


# --- determinism ----------------------------------------------------------------------------
def _cli(seed: int, count: int, out: Path, hashseed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    subprocess.run([sys.executable, "-m", "selftests.generator", "--seed", str(seed), "--count", str(count),
                    "--out", str(out)], check=True, cwd=ROOT, env=env, capture_output=True)
    return out.read_bytes()


def test_same_seed_same_jsonl_bytes_across_processes(tmp_path):
    a = _cli(11, 60, tmp_path / "a.jsonl", "1")
    b = _cli(11, 60, tmp_path / "b.jsonl", "4242")
    assert a == b
    assert a.count(b"\n") == 60
    in_process = "".join(p.to_json() + "\n" for p in generate(11, 60)).encode()
    assert in_process == a


def test_program_n_does_not_depend_on_count():
    ten = generate(5, 10)
    assert [p.to_json() for p in generate(5, 4)] == [p.to_json() for p in ten[:4]]
    assert generate_one(5, 7).to_json() == ten[7].to_json()


def test_different_seeds_differ():
    a, b = generate(1, 20), generate(2, 20)
    assert [p.insns for p in a] != [p.insns for p in b]
    assert sum(x.insns == y.insns for x, y in zip(a, b)) <= 2


# --- well-formed programs ----------------------------------------------------------------------
def test_ids_names_and_records(programs):
    assert [p.id for p in programs] == [f"gen-{SEED}/{n}" for n in range(300)]
    for p in programs:
        assert p.source == f"gen-{SEED}" and p.name == p.id.split("/")[1]
        assert p.expect.verdict is None and p.expect.message is None
        assert uapi.prog_type_name(p.prog_type) in ("socket_filter", "sched_cls", "xdp", "kprobe")
        assert Program.from_json(p.to_json()) == p


def test_instructions_decode_with_valid_opcodes_and_references(programs):
    for p in programs:
        insns = p.decoded()
        assert insns[-1].code in (0x95, 0x05), p.id  # exit (or a jump back) ends the text
        i = 0
        while i < len(insns):
            ins = insns[i]
            assert is_valid_opcode(ins.code), (p.id, i, ins)
            assert ins.dst <= 10 and ins.src <= 10, (p.id, i, ins)
            if ins.code == LD_IMM64:
                if ins.src in (BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE):
                    assert 0 <= ins.imm < len(p.maps), (p.id, i)
                    if ins.src == BPF_PSEUDO_MAP_VALUE:
                        assert p.maps[ins.imm].max_entries == 1
                        assert 0 <= insns[i + 1].imm < p.maps[ins.imm].value_size
                i += 2
                continue
            if ins.code & 0x07 in (0x05, 0x06) and ins.code not in (0x85, 0x95):
                assert 0 <= i + 1 + ins.off < len(insns), (p.id, i, "jump out of the program")
            if ins.code == CALL and ins.src == BPF_PSEUDO_CALL:
                assert 0 < i + 1 + ins.imm < len(insns), (p.id, i, "call out of the program")
            i += 1


def test_asm_round_trip(programs):
    for p in programs[:150]:
        names = [m.name for m in p.maps]
        text = disassemble(p.decoded(), names)
        assert ".insn" not in text, p.id
        assert encode(assemble(text, names)) == p.insns, p.id


def test_maps_are_small_and_well_formed(programs):
    for p in programs:
        assert len(p.maps) <= 4
        for m in p.maps:
            assert uapi.map_type_name(m.type) in ("array", "hash")
            assert 0 < m.value_size <= 512 and m.key_size in (4, 8, 16)
            assert m.init is None or len(m.init) == m.value_size


# --- the mix ---------------------------------------------------------------------------------------
def test_size_classes_and_tags(programs):
    classes = Counter(p.tags[0] for p in programs)
    for p in programs:
        assert p.tags[0] == size_class(p.insn_count), p.id
        assert list(p.tags[1:]) == sorted(set(p.tags[1:])), p.id
        assert set(p.tags) <= set(TAGS), set(p.tags) - set(TAGS)
        assert p.insn_count < 10000
    assert classes["simple"] > 0.5 * len(programs)
    assert classes["medium"] > 0.15 * len(programs)
    assert classes["complex"] >= 1
    seen = Counter(t for p in programs for t in p.tags)
    exercised = {"alu", "alu32", "movsx", "bswap", "sdiv", "div", "shift_var", "branch", "jmp32", "correlated",
                 "linked", "dead_branch", "precision", "flaw", "stack", "map", "direct_value", "packet", "spill",
                 "spill32", "ptr_spill", "helper", "prandom", "map_helper", "probe_read", "skb_load_bytes",
                 "xdp_load_bytes", "loop", "may_goto", "subprog", "atomic", "ld_abs", "ptr_arith"}
    assert exercised <= set(seen), exercised - set(seen)
    types = Counter(uapi.prog_type_name(p.prog_type) for p in programs)
    assert all(types[t] >= 0.1 * len(programs) for t in ("socket_filter", "sched_cls", "xdp", "kprobe")), types


def test_main_writes_a_loadable_corpus(tmp_path, capsys):
    out = tmp_path / "g.jsonl"
    assert main(["--seed", "3", "--count", "25", "--out", str(out)]) == 0
    assert "wrote 25 programs" in capsys.readouterr().out
    progs, errors = load_jsonl(out)
    assert not errors
    assert [p.to_json() for p in progs] == [p.to_json() for p in generate(3, 25)]
    with pytest.raises(SystemExit):
        main(["--seed", "3", "--count", "-1", "--out", str(out)])


# --- the concrete semantics the generator follows samples with ---------------------------------
def test_semantics_edge_cases():
    smin = 1 << 63
    assert alu(0x30, True, smin, M64, off=1) == smin  # INT_MIN s/ -1
    assert alu(0x90, True, 7, 0) == 7  # mod by zero keeps dst
    assert alu(0x30, True, 7, 0) == 0  # div by zero is zero
    assert alu(0x90, False, (5 << 32) | 9, 0) == 9  # 32-bit mod by zero: zero-extended dst
    assert alu(0x90, True, (-7) & M64, 3, off=1) == (-1) & M64  # smod takes the dividend's sign
    assert alu(0x00, False, 0xFFFFFFFF, 1) == 0  # 32-bit add wraps and zero-extends
    assert alu(0xC0, True, smin, 63) == M64  # arsh
    assert alu(0x60, True, 1, 65) == 2  # shift amounts are masked
    assert alu(0xB0, True, 0, 0x80, off=8) == (-128) & M64  # movsx
    assert sext(0x8000, 16, 32) == 0xFFFF8000
    assert end("be", 16, 0x12345678) == 0x7856
    assert end("le", 32, 0x1122334455667788) == 0x55667788
    assert end("bswap", 64, 0x0102030405060708) == 0x0807060504030201


# --- against the kernel ------------------------------------------------------------------------------
TRIVIAL = re.compile(r"!read_ok|unreachable insn|jump out of range|back-edge|invalid func|unknown opcode|"
                     r"invalid BPF_LD_IMM|fd \d+ is not pointing|reserved fields|last insn is not")


@pytest.mark.bpf
def test_kernel_accepts_most_and_rejects_for_bounds():
    from kernel_loader import load

    progs = generate(SEED, 200)
    results = [load(p, log_level=1) for p in progs]
    verdicts = Counter(r.verdict for r in results)
    errors = [(r.program_id, r.message) for r in results if r.verdict == "error"]
    assert not errors, errors[:5]
    assert verdicts["accept"] >= 0.5 * len(progs), verdicts
    assert verdicts["reject"] >= 0.1 * len(progs), verdicts  # both verdicts are represented
    trivial = [(r.program_id, r.message) for r in results if r.verdict == "reject" and TRIVIAL.search(r.message)]
    assert not trivial, trivial[:5]
    # generated programs stay cheap to verify (and their logs small)
    assert max(r.insns_processed or 0 for r in results) < 100_000
