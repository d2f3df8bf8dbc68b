"""The pre-exploration passes of ``pyverifier.cfg``: the one-pass route (``single_pass``) for
the common program gives exactly what the separate passes give, and leaves every other
program to them."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyverifier import cfg as C
from pyverifier.insn import Insn, decode
from pyverifier.log import Log
from selftests.corpus import load_corpus
from selftests.generator import generate

_FIELDS = ("subprog_starts", "succ", "prune_points", "jmp_points", "force_checkpoints", "calls_callback",
           "iter_next_calls", "has_backedge", "ld_imm64_at")


def _params(ins: Insn) -> int | None:
    return 2 if ins.src == 0 else None  # any fixed answer: both routes must ask the same question


def _both(insns: list[Insn], nmaps: int):
    one = C.Cfg(len(insns), [0])
    got = C.single_pass(insns, nmaps, _params, one)
    try:
        sep, calls = C.separate_passes(insns, nmaps, Log(0))
    except (C.CfgError, C.NotModelled) as e:
        sep, calls = e, None
    return got, one, sep, calls


def _same(insns: list[Insn], nmaps: int) -> bool:
    """Checks one program; returns whether it took the one-pass route."""
    got, one, sep, calls = _both(insns, nmaps)
    if got is None:
        return False
    assert not isinstance(sep, Exception), f"one pass accepted what the passes refuse: {sep}"
    assert calls == []
    for f in _FIELDS:
        assert getattr(one, f) == getattr(sep, f), f
    ud, maps_used = got
    C.compute_postorder(insns, sep)
    C.compute_scc(insns, sep)
    C.compute_live_regs(insns, sep, _params)
    C.compute_postorder(insns, one)
    C.compute_scc(insns, one)
    C.compute_live_regs(insns, one, _params, ud)
    assert one.live_regs_before == sep.live_regs_before
    assert maps_used == [ins.imm for ins in insns if ins.code == 0x18 and ins.src == 1]
    return True


def _corpus(spec: str):
    progs, _ = load_corpus(spec)
    return [(decode(p.insns), len(p.maps)) for p in progs]


def test_one_pass_equals_the_separate_passes_on_the_builtin_corpus():
    taken = sum(_same(insns, nmaps) for insns, nmaps in _corpus("builtin"))
    assert taken > 200  # most programs take it


def test_one_pass_equals_the_separate_passes_on_generated_programs():
    progs = generate(11, 300)
    taken = sum(_same(decode(p.insns), len(p.maps)) for p in progs)
    assert taken > 50  # (the others call subprograms or helpers with callbacks)


def test_one_pass_equals_the_separate_passes_on_mutated_programs():
    """Random damage to real programs (opcodes, offsets, registers, immediates): every program the
    one pass takes comes out as the separate passes make it, and it takes none they refuse."""
    rng = random.Random(5)
    base = _corpus("builtin")
    taken = 0
    for _ in range(3000):
        insns, nmaps = rng.choice(base)
        insns = list(insns)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(insns))
            code, dst, src, off, imm = insns[i]
            k = rng.randrange(5)
            if k == 0:
                code = rng.randrange(256)
            elif k == 1:
                off = rng.randint(-len(insns) - 2, len(insns) + 2)
            elif k == 2:
                src = rng.randrange(16)
            elif k == 3:
                imm = rng.choice([0, 1, 2, 164, 170, -1, rng.randint(-2**31, 2**31 - 1)])
            else:
                dst = rng.randrange(16)
            insns[i] = Insn(code, dst, src, off, imm)
        taken += _same(insns, nmaps)
    assert taken > 300


@pytest.mark.parametrize("body, why", [
    ([Insn(0x85, 0, 1, 0, 1), Insn(0x95, 0, 0, 0, 0), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)],
     "a bpf-to-bpf call: two subprograms"),
    ([Insn(0x85, 0, 0, 0, 181), Insn(0x95, 0, 0, 0, 0)], "a helper that runs a callback"),
    ([Insn(0x18, 1, 2, 0, 0), Insn(0, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)], "a map value reference"),
    ([Insn(0x18, 1, 1, 0, 3), Insn(0, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)], "a map fd outside the maps"),
    ([Insn(0x15, 1, 0, 5, 0), Insn(0x95, 0, 0, 0, 0)], "a jump out of range"),
    ([Insn(0xB7, 0, 0, 0, 0)], "no exit at the end"),
    ([Insn(0x61, 0, 1, 0, 1), Insn(0x95, 0, 0, 0, 0)], "an LDX with a reserved field set"),
    ([Insn(0xFF, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)], "an unknown opcode"),
    ([Insn(0xE5, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)], "may_goto"),
])
def test_the_rest_goes_to_the_separate_passes(body, why):
    got, _, _, _ = _both(body, 1)
    assert got is None, why


def test_a_map_reference_takes_the_one_pass():
    body = [Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
    assert _same(body, 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 15), st.integers(0, 15), st.integers(-(1 << 15), (1 << 15) - 1),
                          st.sampled_from([0, 1, 0x1, 0x41, 0xA0, 0xA1, 0xE1, 0xF1, 0x100, 0x110, -1])),
                min_size=1, max_size=40))
def test_kept_use_def_is_the_instructions_own(slots):
    """The use/def kept across programs is what insn_use_def says of every instruction that finds
    it, whatever its offset and immediate (calls are never kept)."""
    insns = [Insn(*s) for s in slots]
    C.compute_live_regs(insns, _dummy_cfg(insns), _params)  # fills the kept use/defs
    ud = []
    for ins in insns:
        u = C._USE_DEF.get(ins)
        ud.append(C._use_def_miss(ins, _params) if u is None else u)
    assert ud == [C.insn_use_def(ins, _params) for ins in insns]


def _dummy_cfg(insns: list[Insn]):
    cfg = C.Cfg(len(insns), [0])
    cfg.succ = [()] * len(insns)
    cfg.postorder = list(range(len(insns)))
    return cfg
