"""State pruning, precision backtracking and loops (pyverifier.prune, pyverifier.precision).

Unit tests check the equivalence rules and the backtracking on hand-made states and programs;
the bpf-marked tests compare the full level-2 log and the statistics with the live kernel on
loops, ladders of branches, spills and seeded random programs (tests/prune_progs.py).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pyverifier import prune
from pyverifier import regs as R
from pyverifier.insn import decode, encode
from pyverifier.program import Program
from pyverifier.scalar import Scalar
from pyverifier.stack import EMPTY_SLOT, STACK_MISC, STACK_SPILL, STACK_ZERO, Slot
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from prune_progs import program as random_program  # noqa: E402
from kernel_compare import same_as_kernel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def P(name, text_insns, ptype=1, flags=0):
    return Program(id=f"t/{name}", source="t", name=name, prog_type=ptype, insns=encode(text_insns),
                   prog_flags=flags)


def asm(text: str):
    from pyverifier.asm import assemble

    out = assemble(text)
    return out if isinstance(out, list) else decode(out)


# ---- unit: ids, regsafe, stacksafe ----------------------------------------------
def test_idmap_is_a_bijection():
    m = prune.IdMap(100)
    assert m.check(1, 5) and m.check(1, 5)
    assert not m.check(1, 6)  # 1 already maps to 5
    assert not m.check(2, 5)  # 5 already taken by 1
    assert m.check(0, 0) and not m.check(0, 3) and not m.check(3, 0)


def test_scalar_ids_old_zero_asks_nothing():
    m = prune.IdMap(100)
    assert m.check_scalar(0, 7) and m.check_scalar(0, 7)
    m = prune.IdMap(100)
    assert m.check_scalar(4, 0)
    assert not m.check_scalar(4, 0)  # each zero current id is a fresh id: 4 cannot map to two


def _scal(lo, hi, precise=False, id=0):
    from pyverifier import scalar as sc

    s = sc.Scalar.unknown()
    # [lo, hi] as the kernel gets it: an unknown value refined by two unsigned comparisons
    s = sc.refine(s, Scalar.const(lo), sc.BPF_JGE, False)[0]
    s = sc.refine(s, Scalar.const(hi), sc.BPF_JLE, False)[0]
    return R.Reg(R.SCALAR, s, id=id, precise=precise)


def test_regsafe_imprecise_scalar_matches_any_scalar():
    m = prune.IdMap(0)
    assert prune.regsafe(_scal(0, 0), _scal(5, 100), m, prune.NOT_EXACT)
    assert not prune.regsafe(_scal(0, 0), R.pointer(R.PTR_TO_CTX), m, prune.NOT_EXACT)
    assert not prune.regsafe(_scal(0, 0), _scal(5, 100), m, prune.RANGE_WITHIN)


def test_regsafe_precise_scalar_needs_range_within():
    m = prune.IdMap(0)
    assert prune.regsafe(_scal(0, 10, True), _scal(2, 5), m, prune.NOT_EXACT)
    assert not prune.regsafe(_scal(0, 10, True), _scal(2, 11), m, prune.NOT_EXACT)
    assert not prune.regsafe(_scal(3, 3, True), _scal(4, 4), m, prune.NOT_EXACT)


def test_regsafe_not_init_old_accepts_anything_unless_range_within():
    m = prune.IdMap(0)
    assert prune.regsafe(R.NOT_INIT_REG, _scal(1, 1), m, prune.NOT_EXACT)
    assert not prune.regsafe(R.NOT_INIT_REG, _scal(1, 1), m, prune.RANGE_WITHIN)
    assert prune.regsafe(R.NOT_INIT_REG, R.NOT_INIT_REG, m, prune.RANGE_WITHIN)


def test_regsafe_exact_compares_everything():
    m = prune.IdMap(0)
    assert prune.regsafe(_scal(0, 10), _scal(0, 10), m, prune.EXACT)
    assert not prune.regsafe(_scal(0, 10), _scal(0, 9), m, prune.EXACT)


def test_stacksafe_misc_accepts_zero_not_the_reverse():
    class F:
        def __init__(self, stack):
            self.stack = stack

    misc = Slot((STACK_MISC,) * 8)
    zero = Slot((STACK_ZERO,) * 8)
    assert prune.stacksafe(F([misc]), F([zero]), prune.IdMap(0), prune.NOT_EXACT)
    assert not prune.stacksafe(F([zero]), F([misc]), prune.IdMap(0), prune.NOT_EXACT)
    # an explored slot that was never written asks nothing, a longer current stack is fine
    assert prune.stacksafe(F([EMPTY_SLOT]), F([zero, misc]), prune.IdMap(0), prune.NOT_EXACT)
    # a spilled imprecise scalar against all-misc bytes: both are unknown scalars
    spill = Slot((STACK_SPILL,) * 8, _scal(0, 5))
    assert prune.stacksafe(F([spill]), F([misc]), prune.IdMap(0), prune.NOT_EXACT)
    pspill = Slot((STACK_SPILL,) * 8, _scal(0, 5, precise=True))
    assert not prune.stacksafe(F([pspill]), F([misc]), prune.IdMap(0), prune.NOT_EXACT)


# ---- whole programs without the kernel ------------------------------------------------
BOUNDED = """
r6 = r1
r0 = 0
r1 = 0
r0 += r1
r1 += 1
if r1 < 0xa goto pc-3
exit
"""


def test_bounded_loop_marks_and_prunes():
    p = P("bl", asm(BOUNDED))
    r = verify(p, 2 | 4)
    assert r.verdict == "accept", r.log
    log = r.log
    assert "mark_precise: frame0: last_idx 5 first_idx 0 subseq_idx -1 \n" in log
    assert "mark_precise: frame0: regs=r1 stack= before 2: (b7) r1 = 0\n" in log
    assert "SCC enter (1)\n" in log and "SCC exit (1)\n" in log
    assert re.search(r"parent state regs=r1 stack=:  R0=\d+ R1=P\d+ R6=ctx\(\) R10=fp0\n", log)
    assert r.total_states > 0 and r.insns_processed > 10 * 3


def test_infinite_loop_is_rejected():
    p = P("inf", asm("r0 = 0\nr1 = 0\nif r1 == 0x0 goto pc-1\nexit\n"))
    r = verify(p, 2)
    assert (r.verdict, r.errno, r.message) == ("reject", 22, "infinite loop detected at insn 2"), r.log
    assert "cur state: R0=0 R1=0 R10=fp0\nold state: R0=0 R1=P0 R10=fp0\n" in r.log


def test_diamonds_are_pruned():
    # 24 diamonds on one unknown value: without pruning 2**24 paths, with it a few hundred insns
    p = P("diamonds", asm(TARGETED["diamonds"]))
    r = verify(p, 2 | 4)
    assert r.verdict == "accept", r.message
    assert r.insns_processed < 2000 and r.total_states > 24
    assert re.search(r"^\d+: safe$", r.log, re.M)
    assert r.peak_states <= r.total_states and r.max_states_per_insn >= 1


def test_may_goto_converges():
    p = P("mg", asm("r0 = 0\nmay_goto pc+2\nr0 += 1\ngoto pc-3\nexit\n"))
    r = verify(p, 2 | 4)
    assert r.verdict == "accept", r.log
    assert "stack depth 16\n" in r.log  # the JIT's timed may_goto slots


def test_test_state_freq_checkpoints_every_prune_point():
    insns = asm(BOUNDED)
    plain = verify(P("bl", insns), 1 | 4)
    freq = verify(P("blf", insns, flags=1 << 3), 1 | 4)
    assert freq.verdict == plain.verdict == "accept"
    assert freq.total_states > plain.total_states


def test_random_programs_terminate():
    for seed in range(20):
        r = verify(random_program(seed, 8), 1 | 4)
        assert r.verdict == "accept", (seed, r.message)


# ---- against the live kernel ------------------------------------------------------
def _same_as_kernel(p: Program, level: int = 2):
    same_as_kernel(p, level)


BUILTIN = ["bounded_loop", "branch_ladder", "reject_infinite_loop", "may_goto_loop", "unrolled_stack_sum",
           "map_access", "xdp_unrolled_checksum", "jmp32_range", "bounds_check", "reject_map_chain_missing_check",
           # an SCC entered from a call at insn 0 prints "(1)"; a bloom filter's peek reads its value;
           # the kernel glues the statistics onto a message printed without a newline
           "reject_back_jump_infinite_subprog", "bloom_filter_push_peek", "reject_tail_call_wrong_map"]


@pytest.mark.bpf
@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_against_kernel(name):
    from selftests.corpus import load_corpus

    progs, _ = load_corpus(str(ROOT / "selftests" / "corpus" / "builtin" / f"{name}.s"))
    p = progs[0]
    r = verify(p, 2)
    if r.message and r.message.startswith("not modelled"):
        pytest.skip(r.message)
    _same_as_kernel(p)


TARGETED = {
    # the same constant reached with and without a scalar link: old states without links ask nothing
    "const_links": """
r6 = *(u32 *)(r1 +0)
r7 = *(u32 *)(r1 +4)
r0 = 0
r2 = 0
r3 = 0
r4 = 0
if r7 > 0xa goto pc+6
r8 = 0
r9 = 0
r2 = 1
r3 = 1
r4 = 1
goto pc+3
r8 = r6
r9 = r6
if r8 != 0x0 goto pc+5
r2 = 1
if r8 == 0x0 goto pc+1
r0 = 1
if r9 == 0x0 goto pc+1
r0 = 2
exit
""",
    # precision through a spill and a fill: the jump history carries the stack slot
    "spill_fill_precision": """
r6 = *(u32 *)(r1 +0)
r6 &= 7
*(u64 *)(r10 -8) = r6
r0 = 0
r1 = 0
r1 += 1
r0 += 2
if r1 < 0x3 goto pc-3
r2 = *(u64 *)(r10 -8)
if r2 > 0x7 goto pc+1
r0 = 1
exit
""",
    # two nested bounded loops
    "nested_loops": """
r0 = 0
r1 = 0
r2 = 0
r2 += 1
r0 += r2
if r2 < 0x3 goto pc-3
r1 += 1
if r1 < 0x4 goto pc-6
exit
""",
    # precision of a subprogram's return value: back over the exit into the callee, then over
    # the call into the caller's argument
    "return_value_precision": """
r1 = 1
call pc+6
r1 = r10
r1 += -16
r1 += r0
r0 = 0
*(u64 *)(r1 +0) = r0
exit
r0 = r1
r0 <<= 3
exit
""",
    # a caller's callee-saved register stays wanted in the caller's frame while the backtrack
    # walks the callee's instructions; the callee spills and fills on its own stack
    "callee_saved_precision": """
r6 = -8
r1 = 5
call pc+4
r1 = r10
r1 += r6
*(u64 *)(r1 +0) = r0
exit
*(u64 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
r0 += 1
exit
""",
    # nested calls: precision crosses two exits and two calls
    "nested_call_precision": """
r1 = 2
call pc+6
r1 = r10
r1 += -16
r1 += r0
*(u64 *)(r1 +0) = r1
r0 = 0
exit
r1 += 2
call pc+1
exit
r0 = r1
exit
""",
    # a subprogram only a never-taken branch calls is dead code: the accepted program's
    # stack depth line leaves it out, and so does its may_goto stack
    "dead_subprogram": """
r0 = 0
if r0 == 0x1 goto pc+1
goto pc+1
call pc+1
exit
*(u64 *)(r10 -8) = r1
r1 = 0
may_goto pc+1
r1 += 1
r0 = 0
exit
""",
    # a program refused before exploration still prints one stack depth per subprogram
    "cfg_error_two_subprogs": "r0 = 0\ncall pc+1\nexit\nr0 = 0\n",
    # may_goto reads no register: r0 is not live across the loop
    "may_goto_liveness": """
r1 = 0
may_goto pc+2
r1 += 1
goto pc-3
r0 = 0
exit
""",
    # many diamonds on an unknown value: checkpoints, hits and misses
    "diamonds": "r6 = *(u32 *)(r1 +0)\nr0 = 0\n" + "".join(
        f"if r6 > 0x{i * 7 + 3:x} goto pc+1\nr0 += {i}\n" for i in range(24)) + "exit\n",
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(TARGETED))
def test_targeted_against_kernel(name):
    _same_as_kernel(P(name, asm(TARGETED[name])))


@pytest.mark.bpf
def test_infinite_loop_against_kernel():
    _same_as_kernel(P("inf", asm("r0 = 0\nr1 = 0\nif r1 == 0x0 goto pc-1\nexit\n")))


@pytest.mark.bpf
def test_test_state_freq_against_kernel():
    _same_as_kernel(P("blf", asm(BOUNDED), flags=1 << 3))


# Random programs whose scalars stay away from what pyverifier does not model yet
# (see tests/prune_progs.py); each is compared in full with the kernel.
@pytest.mark.bpf
@pytest.mark.parametrize("seed", [2, 4, 10, 12, 18, 28, 38, 58, 60, 72, 73, 78, 80, 82, 92, 96, 97, 99])
def test_random_against_kernel(seed):
    _same_as_kernel(random_program(seed, 6))


@pytest.mark.bpf
def test_jump_sequence_limit_against_kernel():
    # 8193 branches on one unknown value, each pushed before any path reaches the exit:
    # the kernel refuses the 8193rd pending branch (BPF_COMPLEXITY_LIMIT_JMP_SEQ)
    text = "r6 = *(u32 *)(r1 +0)\nr0 = 0\n" + "".join(
        f"if r6 == 0x{i:x} goto pc+1\nr0 += 1\n" for i in range(8200)) + "exit\n"
    p = P("jmp_seq", asm(text))
    r = verify(p, 1)
    assert r.message == "The sequence of 8193 jumps is too complex." and r.errno == 14
    _same_as_kernel(p, level=1)


def test_jump_sequence_below_limit_is_accepted():
    text = "r6 = *(u32 *)(r1 +0)\nr0 = 0\n" + "".join(
        f"if r6 == 0x{i:x} goto pc+1\nr0 += 1\n" for i in range(100)) + "exit\n"
    assert verify(P("jmp_seq_short", asm(text)), 0).verdict == "accept"
