"""Microbenchmarks of pyverifier's core operations.

Each case is one call of a public pyverifier function on realistic operands
(bounded scalars as a program produces them, a state with registers and stack
slots in use). A case is timed in ``rounds`` batches of ``k`` calls, ``k``
calibrated so that a batch takes about ``BATCH_TARGET_S``; the figures are the
per-call times of the batches (mean, std, P95 over rounds) in nanoseconds.

State comparison is pruning's ``pyverifier.prune.states_equal`` when that
module provides it; otherwise the case reports why it is absent.
"""
from __future__ import annotations

import gc
import importlib
import time
from dataclasses import dataclass
from typing import Callable

from .bench_stats import summary

BATCH_TARGET_S = 0.002


@dataclass
class Case:
    group: str  # "state", "tnum", "scalar alu", "sync", "branch", "state comparison"
    name: str
    fn: Callable[[], object] | None  # a zero-argument closure; None when not available
    note: str = ""


def _operands():
    from pyverifier import scalar as sc
    from pyverifier import tnum as tn

    byte = sc.alu(sc.BPF_AND, sc.UNKNOWN, sc.Scalar.const(0xFF), True)  # [0, 255]
    word = sc.alu(sc.BPF_AND, sc.UNKNOWN, sc.Scalar.const(0xFFFF), True)  # [0, 65535]
    signed = sc.alu(sc.BPF_SUB, byte, sc.Scalar.const(100), True)  # [-100, 155]
    t_byte = byte.var_off
    t_word = word.var_off
    t_mixed = tn.Tnum(0x1000, 0x0F0F)
    return sc, tn, byte, word, signed, t_byte, t_word, t_mixed


def _state():
    from pyverifier import regs as R
    from pyverifier import scalar as sc
    from pyverifier.stack import STACK_MISC, STACK_SPILL, Slot
    from pyverifier.state import initial_state

    st = initial_state()
    regs = st.cur.regs
    byte = sc.alu(sc.BPF_AND, sc.UNKNOWN, sc.Scalar.const(0xFF), True)
    for i in range(0, 6):
        regs[i] = R.scalar_of(byte) if i % 2 else R.scalar_const(i)
    st.cur.grow_stack(64)
    for spi in range(0, 8, 2):
        st.cur.stack[spi] = Slot((STACK_SPILL,) * 8, R.scalar_of(byte))
        st.cur.stack[spi + 1] = Slot((STACK_MISC,) * 8)
    return st


def cases() -> list[Case]:
    """The microbenchmark cases, closures over prepared operands."""
    from pyverifier.state import initial_state

    sc, tn, byte, word, signed, t_byte, t_word, t_mixed = _operands()
    st = _state()
    JGT, JSLT, JEQ = sc.BPF_JGT, sc.BPF_JSLT, sc.BPF_JEQ
    c10 = sc.Scalar.const(10)
    c3 = sc.Scalar.const(3)
    out = [
        Case("state", "create (initial_state)", initial_state),
        Case("state", "copy (11 regs, 8 stack slots)", st.copy),
        Case("tnum", "add", lambda: tn.add(t_byte, t_word)),
        Case("tnum", "sub", lambda: tn.sub(t_word, t_byte)),
        Case("tnum", "and", lambda: tn.and_(t_mixed, t_word)),
        Case("tnum", "mul", lambda: tn.mul(t_byte, t_mixed)),
        Case("tnum", "range", lambda: tn.range(16, 4095)),
        Case("tnum", "lshift", lambda: tn.lshift(t_word, 3)),
        Case("scalar alu", "add64 reg", lambda: sc.alu(sc.BPF_ADD, byte, word, True)),
        Case("scalar alu", "add64 imm", lambda: sc.alu(sc.BPF_ADD, signed, c10, True)),
        Case("scalar alu", "add32 reg", lambda: sc.alu(sc.BPF_ADD, byte, word, False)),
        Case("scalar alu", "sub64 reg", lambda: sc.alu(sc.BPF_SUB, word, signed, True)),
        Case("scalar alu", "and64 imm", lambda: sc.alu(sc.BPF_AND, word, sc.Scalar.const(0xFF0), True)),
        Case("scalar alu", "or64 reg", lambda: sc.alu(sc.BPF_OR, byte, word, True)),
        Case("scalar alu", "mul64 imm", lambda: sc.alu(sc.BPF_MUL, byte, c10, True)),
        Case("scalar alu", "lsh64 imm", lambda: sc.alu(sc.BPF_LSH, word, c3, True)),
        Case("scalar alu", "rsh32 imm", lambda: sc.alu(sc.BPF_RSH, word, c3, False)),
        Case("scalar alu", "mov32 reg", lambda: sc.mov32(signed)),
        Case("scalar alu", "const", lambda: sc.Scalar.const(12345)),
        Case("sync", "sync (bounded)", lambda: sc.sync(signed)),
        Case("sync", "sync (unknown)", lambda: sc.sync(sc.UNKNOWN)),
        Case("branch", "branch_taken jgt", lambda: sc.branch_taken(word, c10, JGT, False)),
        Case("branch", "refine jgt (both paths)",
             lambda: (sc.refine(word, c10, JGT, False), sc.refine(word, c10, sc.negate_op(JGT), False))),
        Case("branch", "refine jslt reg", lambda: sc.refine(signed, byte, JSLT, False)),
        Case("branch", "refine jeq 32", lambda: sc.refine(word, byte, JEQ, True)),
        Case("state comparison", "range_within + tnum_in", lambda: sc.within(word, byte)),
    ]
    out.append(_state_comparison_case(st))
    return out


def _state_comparison_case(st) -> Case:
    """``pyverifier.prune.states_equal`` of an explored state and a current one that it covers.

    The function takes the exploration loop as its first argument for two
    things: the id counter and the live registers per instruction; a small
    stand-in supplies both (every register live). Absent until
    ``pyverifier/prune.py`` provides ``states_equal``.
    """
    from types import SimpleNamespace

    from pyverifier import regs as R
    from pyverifier import scalar as sc

    name = "states_equal (explored vs current, all live)"
    try:
        prune = importlib.import_module("pyverifier.prune")
    except ImportError:
        return Case("state comparison", name, None, "not available yet: pyverifier/prune.py does not exist")
    fn = getattr(prune, "states_equal", None)
    if fn is None:
        return Case("state comparison", name, None, "not available yet: pyverifier.prune has no states_equal")
    old = st.copy()
    cur = st.copy()
    wide = sc.alu(sc.BPF_AND, sc.UNKNOWN, sc.Scalar.const(0xFFFF), True)
    narrow = sc.alu(sc.BPF_AND, sc.UNKNOWN, sc.Scalar.const(0xFF), True)
    for i in (1, 3, 5):
        old.cur.regs[i] = R.Reg(R.SCALAR, wide, precise=True)
        cur.cur.regs[i] = R.Reg(R.SCALAR, narrow, precise=True)
    ctx = SimpleNamespace(id_gen=0, cfg=SimpleNamespace(live_regs_before=[0x7FF] * 8, scc=[0] * 8))
    exact = getattr(prune, "NOT_EXACT", 0)
    try:
        ok = fn(ctx, old, cur, exact)
    except Exception as e:  # noqa: BLE001 - its signature moved on: say so rather than guess
        return Case("state comparison", name, None, f"not measured: states_equal failed on the stand-in: "
                                                    f"{type(e).__name__}: {e}")
    return Case("state comparison", name, lambda: fn(ctx, old, cur, exact),
                "" if ok else "note: the states did not compare equal")


def _calibrate(fn: Callable[[], object]) -> int:
    k = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        el = time.perf_counter() - t0
        if el >= BATCH_TARGET_S / 4 or k >= 1 << 20:
            break
        k *= 4
    return max(1, int(k * BATCH_TARGET_S / max(el, 1e-9)))


def time_case(fn: Callable[[], object], rounds: int, k: int | None = None) -> dict:
    """Per-call nanoseconds of ``fn`` over ``rounds`` batches (garbage collector paused, as timeit does)."""
    k = k or _calibrate(fn)
    per_call: list[float] = []
    rng = range(k)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            t0 = time.perf_counter_ns()
            for _ in rng:
                fn()
            per_call.append((time.perf_counter_ns() - t0) / k)
    finally:
        if gc_was:
            gc.enable()
    return {"calls_per_round": k, "rounds": rounds, "iterations": k * rounds, "ns": summary(per_call)}


def run_micro(rounds: int = 20, only: str | None = None) -> list[dict]:
    """Every case as ``{"group", "name", "available", "note", ...time_case}``."""
    out = []
    for c in cases():
        if only and only not in c.group and only not in c.name:
            continue
        row = {"group": c.group, "name": c.name, "available": c.fn is not None, "note": c.note}
        if c.fn is not None:
            row.update(time_case(c.fn, rounds))
        out.append(row)
    return out
