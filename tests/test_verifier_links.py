"""Linked scalar ids, self-compares, invariant violations and the AND/OR fork (pyverifier.links,
pyverifier.condjmp, pyverifier.scalar_fork).

Each program is checked twice: without bpf() against lines the live 6.18 kernel printed for it
(so a regression shows everywhere), and, bpf-marked, in full against the live kernel (log,
verdict, errno, message, statistics).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pyverifier.asm import assemble
from pyverifier.insn import decode, encode
from pyverifier.program import Program
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

TEST_REG_INVARIANTS = 1 << 7


def P(name: str, text: str, flags: int = 0) -> Program:
    out = assemble(text)
    insns = out if isinstance(out, list) else decode(out)
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(insns), prog_flags=flags)


# more than LINKED_REGS_MAX (6) registers share id 1: the leftovers (r7, r8, fp-8) lose it,
# so the full fill of fp-8 copies a register without an id (and gets no new one)
TOO_MANY_LINKS = """
r6 = r1
r0 = *(u32 *)(r6 +0)
r1 = r0
r2 = r0
r3 = r0
r4 = r0
r4 += 2
r5 = r0
r7 = r0
r8 = r0
*(u64 *)(r10 -8) = r0
r9 = r0
if r9 > 10 goto pc+1
r9 = 0
r0 += r1
r0 += r2
r0 += r3
r0 += r4
r0 += r5
r0 += r7
r0 += r8
r1 = *(u64 *)(r10 -8)
r0 += r1
r0 = 0
exit
"""

# both operands share id 1: its registers are collected twice and overflow the list
BOTH_OPERANDS_LINKED = """
r6 = r1
r0 = *(u32 *)(r6 +0)
r1 = r0
r2 = r0
r3 = r0
r7 = r0
if r1 > r2 goto pc+1
r9 = 0
r0 += r1
r0 += r2
r0 += r3
r0 += r7
r0 = 0
exit
"""

# 64- and 32-bit add/sub links; a 32-bit add of a register wider than 32 bits breaks the link
ADD_SUB_LINKS = """
r6 = r1
r7 = *(u32 *)(r6 +0)
r8 = r7
r8 -= 3
r9 = r7
w9 += 5
r0 = r7
w0 -= 2
if r7 > 10 goto pc+1
r0 = 0
r1 = r7
r1 -= 300
r2 = r1
w2 -= 3
r0 = r2
exit
"""

# a 32-bit link syncs a 64-bit-free register zero-extended; a 64-bit and a 32-bit link do not sync
MIXED_WIDTH_LINKS = """
r6 = r1
r9 = *(u32 *)(r6 +0)
r8 = r9
w9 += 3
r8 += 2
r7 = 5
if r7 < r9 goto pc+2
r0 = r8
r0 = r9
if r7 > r8 goto pc+2
r0 = r8
r0 = r9
r0 = 0
exit
"""

# a register compared with itself: both branches are explored and it is refined in both roles
SELF_COMPARE = """
r6 = r1
r7 = *(u32 *)(r6 +0)
r8 = r7
if r7 >= r7 goto pc+1
r0 = 1
if r7 s< r7 goto pc+1
r0 = 1
if w7 & w7 goto pc+1
r0 = 1
if r7 != r7 goto pc+1
r0 = 1
w9 = w7
if w9 > w9 goto pc+1
r0 = 1
r0 = 0
exit
"""

# ... which can break the bounds invariants: the kernel logs a verifier bug and goes on
SELF_COMPARE_VIOLATION = """
r6 = r1
r8 = *(u32 *)(r6 +0)
r8 &= 1
w8 -= 3
if w8 s<= w8 goto pc+1
r0 = 1
r7 = *(u32 *)(r6 +4)
if w7 > 0x1 goto pc+0
if w7 > w7 goto pc+1
r0 = 1
r0 = 0
exit
"""

# the second check of the same register reports the constant tnum left by the first
DOUBLE_VIOLATION = """
r6 = r1
r0 = *(u32 *)(r6 +0)
r0 &= 1
r0 <<= 32
if r0 s<= r0 goto pc+1
r0 = 0
r0 = 0
exit
"""

# AND/OR of a register that is -1 or 0 (64-bit and 32-bit ranges) forks the path
SCALAR_FORK = """
r6 = r1
r7 = *(u32 *)(r6 +0)
w7 &= 1
w7 += -1
r8 = r7
r9 = 5
r7 &= r9
r0 = r8
r8 s>>= 63
r7 = r8
r8 |= 4
r0 = r7
r1 = *(u32 *)(r6 +4)
r1 &= 1
r1 = -r1
r1 |= 3
r0 = 0
exit
"""

PROGRAMS = {
    "too_many_links": TOO_MANY_LINKS,
    "both_operands_linked": BOTH_OPERANDS_LINKED,
    "add_sub_links": ADD_SUB_LINKS,
    "mixed_width_links": MIXED_WIDTH_LINKS,
    "self_compare": SELF_COMPARE,
    "self_compare_violation": SELF_COMPARE_VIOLATION,
    "double_violation": DOUBLE_VIOLATION,
    "scalar_fork": SCALAR_FORK,
}


def _log(name: str, flags: int = 0) -> str:
    r = verify(P(name, PROGRAMS[name], flags), 2 | 4)
    assert r.verdict in ("accept", "reject"), r.message
    return re.sub(r" {2,}; ", " ; ", r.log)  # the padding before a state comment, as compare folds it


# ---- without bpf(): lines the live kernel printed ---------------------------------
def test_leftover_links_lose_their_id_and_fill_adds_none():
    log = _log("too_many_links")
    assert ("from 12 to 14: R0=scalar(id=1,smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R1=scalar(id=1,"
            in log)
    assert "R7=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R8=scalar(smin=0," in log
    assert ("21: (79) r1 = *(u64 *)(r10 -8) ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) "
            "R10=fp0 fp-8=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))") in log


def test_both_operands_collected_twice():
    log = _log("both_operands_linked")
    assert ("6: (2d) if r1 > r2 goto pc+1 ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) "
            "R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))") in log


def test_add_sub_links():
    log = _log("add_sub_links")
    assert "3: (17) r8 -= 3 ; R8=scalar(id=1-3,smin=-3,smax=0xfffffffc)" in log
    assert "5: (04) w9 += 5 ; R9=scalar(id=1+5,smin=0,smax=umax=0xffffffff" in log
    assert "7: (14) w0 -= 2 ; R0=scalar(id=1-2," in log
    assert re.search(r"13: \(14\) w2 -= 3 ; R2=scalar\((?!id=)", log), log


def test_mixed_width_links():
    log = _log("mixed_width_links")
    assert ("7: (bf) r0 = r8 ; R0=scalar(id=2,smin=umin=2,smax=umax=0x100000001,var_off=(0x0; 0x1ffffffff))"
            in log)


def test_self_compare_refines_through_both_roles():
    log = _log("self_compare")
    assert ("3: (3d) if r7 >= r7 goto pc+1 ; R7=scalar(id=1,smin=umin=umin32=1,smax=umax=umax32=0xfffffffe,"
            "var_off=(0x0; 0xffffffff))") in log
    assert "R9=scalar(id=1,smin=umin=umin32=2,smax=umax=umax32=0xfffffffd,var_off=(0x0; 0xffffffff))" in log


def test_invariant_violation_logged_and_bounds_dropped():
    log = _log("self_compare_violation")
    assert ("4: (de) if w8 s<= w8 goto pc+1\nverifier bug: REG INVARIANTS VIOLATION (false_reg1): range bounds "
            "violation u64=[0xfffffffd, 0xfffffffe] s64=[0xfffffffd, 0xfffffffe] u32=[0xfffffffd, 0xfffffffe] "
            "s32=[0xfffffffe, 0xfffffffd] var_off=(0xfffffffc, 0x3)\n4: R8=scalar(var_off=(0xfffffffc; 0x3))\n") in log
    assert "verifier bug: REG INVARIANTS VIOLATION (true_reg1): range bounds violation u64=[0x0, 0x1]" in log


def test_same_register_checked_twice():
    log = _log("double_violation")
    assert ("verifier bug: REG INVARIANTS VIOLATION (false_reg1): range bounds violation u64=[0x0, 0x0] s64=[0x0, 0x0] "
            "u32=[0x1, 0x0] s32=[0x0, 0x0] var_off=(0x0, 0x0)\nverifier bug: REG INVARIANTS VIOLATION (false_reg2): "
            "const tnum out of sync with range bounds u64=[0x0, 0xffffffffffffffff] s64=[0x8000000000000000, "
            "0x7fffffffffffffff] u32=[0x0, 0xffffffff] s32=[0x80000000, 0x7fffffff] var_off=(0x0, 0x0)\n4: R0=0\n") in log


def test_invariant_violation_rejects_under_test_flag():
    r = verify(P("v", SELF_COMPARE_VIOLATION, TEST_REG_INVARIANTS), 2 | 4)
    assert r.verdict == "reject" and r.errno == 14
    assert r.message.startswith("verifier bug: REG INVARIANTS VIOLATION (false_reg1): range bounds violation")


def test_scalar_fork_pushes_the_zero_path():
    log = _log("scalar_fork")
    assert "6: (5f) r7 &= r9 ; R7=5 R9=5" in log
    assert "from 6 to 6: R1=ctx() R6=ctx() R7=0 R8=scalar(id=1," in log


# ---- against the live kernel ------------------------------------------------------
def _same_as_kernel(p: Program) -> None:
    same_as_kernel(p)


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_kernel(name):
    _same_as_kernel(P(name, PROGRAMS[name]))


@pytest.mark.bpf
def test_test_reg_invariants_against_kernel():
    _same_as_kernel(P("v", SELF_COMPARE_VIOLATION, TEST_REG_INVARIANTS))


# random programs of scripts/fuzz_compare.py --extended (sub, 32-bit add/sub, self-compares,
# 32-bit compares) that exercised these rules when they were written
@pytest.mark.bpf
@pytest.mark.parametrize("seed", [1000, 1001, 1012, 1015, 1024, 30, 2052, 2093])
def test_extended_random_against_kernel(seed):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from fuzz_compare import _extended_program

    blocks = 6 if seed < 1000 else 12 if seed < 2000 else 20
    _same_as_kernel(_extended_program(seed, blocks))
