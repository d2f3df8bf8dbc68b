"""Tests of pyverifier.scalar.

1. Soundness (hypothesis): scalars are built together with a concrete member
   by a random walk of operations the member satisfies; every transfer
   function must keep the concrete result inside all nine fields.
2. Precision against the kernel: straight-line programs on r6..r9 (unknown
   scalars from bpf_get_prandom_u32, then ALU ops, byte swaps, sign-extending
   moves and conditional jumps to private exits) are simulated with this
   module and compared, register by register, with the state the live
   verifier prints at log level 2 (fall-through states after each insn,
   ``from N to M:`` states of taken branches, ``from N to N:`` forks).
   ``tests/data/scalar_kernel_cases.json`` holds the kernel's answers for a
   fixed set of such programs so the comparison also runs without bpf();
   ``python tests/test_scalar.py --regen`` rebuilds it on a machine with bpf().

Known gap (documented, not hidden): the live kernel's tnum multiplication is
sometimes more and sometimes less precise than ours (see the module doc of
pyverifier/scalar.py); random programs therefore use no MUL, and the targeted
MUL cases are ones whose result is decided by the bounds.
"""
from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyverifier import scalar as S
from pyverifier import tnum as T
from pyverifier.insn import Insn, decode, encode
from pyverifier.scalar import Scalar

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
DATA = Path(__file__).parent / "data" / "scalar_kernel_cases.json"

# --------------------------------------------------------------------------
# concrete semantics
# --------------------------------------------------------------------------


def sx(x, bits):
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def concrete_alu(op, x, y, is64, signed=False):
    bits = 64 if is64 else 32
    mask = (1 << bits) - 1
    a, b = x & mask, y & mask
    if op == S.BPF_ADD:
        r = a + b
    elif op == S.BPF_SUB:
        r = a - b
    elif op == S.BPF_MUL:
        r = a * b
    elif op == S.BPF_DIV:
        if signed:
            sa, sb = sx(a, bits), sx(b, bits)
            r = 0 if sb == 0 else abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)
        else:
            r = 0 if b == 0 else a // b
    elif op == S.BPF_MOD:
        if signed:
            sa, sb = sx(a, bits), sx(b, bits)
            r = sa if sb == 0 else (abs(sa) % abs(sb)) * (1 if sa >= 0 else -1)
        else:
            r = a if b == 0 else a % b
    elif op == S.BPF_OR:
        r = a | b
    elif op == S.BPF_AND:
        r = a & b
    elif op == S.BPF_XOR:
        r = a ^ b
    elif op == S.BPF_LSH:
        r = a << (b & (bits - 1))
    elif op == S.BPF_RSH:
        r = a >> (b & (bits - 1))
    elif op == S.BPF_ARSH:
        r = sx(a, bits) >> (b & (bits - 1))
    elif op == S.BPF_NEG:
        r = -a
    else:
        raise AssertionError(op)
    return r & mask  # 32-bit results are zero-extended


def concrete_cond(op, x, y, is32):
    bits = 32 if is32 else 64
    mask = (1 << bits) - 1
    a, b = x & mask, y & mask
    sa, sb = sx(a, bits), sx(b, bits)
    return {
        S.BPF_JEQ: a == b,
        S.BPF_JNE: a != b,
        S.BPF_JGT: a > b,
        S.BPF_JGE: a >= b,
        S.BPF_JLT: a < b,
        S.BPF_JLE: a <= b,
        S.BPF_JSGT: sa > sb,
        S.BPF_JSGE: sa >= sb,
        S.BPF_JSLT: sa < sb,
        S.BPF_JSLE: sa <= sb,
        S.BPF_JSET: bool(a & b),
        S.BPF_JSET_NOT: not (a & b),
    }[op]


COND_OPS = [S.BPF_JEQ, S.BPF_JNE, S.BPF_JGT, S.BPF_JGE, S.BPF_JLT, S.BPF_JLE,
            S.BPF_JSGT, S.BPF_JSGE, S.BPF_JSLT, S.BPF_JSLE, S.BPF_JSET]
ALU_OPS = [S.BPF_ADD, S.BPF_SUB, S.BPF_MUL, S.BPF_DIV, S.BPF_OR, S.BPF_AND, S.BPF_LSH,
           S.BPF_RSH, S.BPF_NEG, S.BPF_MOD, S.BPF_XOR, S.BPF_ARSH]

INTERESTING = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 1000, 4095,
               0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32,
               (1 << 63) - 1, 1 << 63, M64, M64 - 1, M64 - 255, M64 - 0x7FFFFFFF, 0x12345678]
VALUES = st.one_of(st.sampled_from(INTERESTING), st.integers(0, M64), st.integers(0, 0x3FF))


def assert_holds(s: Scalar, x: int, what=""):
    assert s.var_off.value & s.var_off.mask == 0, f"{what}: malformed tnum {s.var_off}"
    assert s.contains(x), f"{what}: {x:#x} not in {S.format(s)} {s!r}"


# --------------------------------------------------------------------------
# hypothesis: scalars with a known member
# --------------------------------------------------------------------------


@st.composite
def scalar_with_member(draw):
    """A scalar reached by kernel-like steps from 'unknown', with a value it holds."""
    x = draw(VALUES)
    s = S.UNKNOWN
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["cond", "cond", "and", "or", "add", "rsh", "arsh", "sx", "zext", "trunc"]))
        c = draw(VALUES)
        is64 = draw(st.booleans())
        if kind == "cond":
            op = draw(st.sampled_from(COND_OPS))
            if not concrete_cond(op, x, c, not is64):
                op = S.negate_op(op)
            b = Scalar.const(c)
            t = S.branch_taken(s, b, op if op != S.BPF_JSET_NOT else S.BPF_JSET, not is64)
            if t == -1:
                s2, _ = S.refine(s, b, op, not is64)
                if S.sanity_check(s2) is None:
                    s = s2
            continue
        if kind in ("and", "or", "add"):
            op = {"and": S.BPF_AND, "or": S.BPF_OR, "add": S.BPF_ADD}[kind]
        elif kind in ("rsh", "arsh"):
            op = S.BPF_RSH if kind == "rsh" else S.BPF_ARSH
            c &= 63 if is64 else 31
        elif kind == "sx":
            size = draw(st.sampled_from([1, 2, 4]))
            s = S.coerce_to_size_sx(s, size)
            x = sx(x, size * 8) & M64
            continue
        elif kind == "zext":
            s, x = S.mov32(s), x & M32
            continue
        else:
            size = draw(st.sampled_from([1, 2, 4]))
            s, x = S.coerce_to_size(s, size), x & ((1 << (size * 8)) - 1)
            continue
        s = S.alu(op, s, Scalar.const(c), is64)
        x = concrete_alu(op, x, c, is64)
    assert s.contains(x)
    return s, x


SET = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SET
@given(scalar_with_member())
def test_generated_scalars_are_consistent(sx_):
    s, x = sx_
    assert_holds(s, x)
    assert s.smin <= s.smax and s.umin <= s.umax and s.s32_min <= s.s32_max and s.u32_min <= s.u32_max
    assert S.sanity_check(s) is None
    synced = S.sync(s)
    assert_holds(synced, x, "sync")
    assert S.within(s, synced) or S.range_within(s, synced)


@SET
@given(scalar_with_member(), scalar_with_member(), st.sampled_from(ALU_OPS), st.booleans(), st.booleans(), st.booleans())
def test_alu_sound(a, b, op, is64, signed, const_src):
    (s, x), (t, y) = a, b
    if const_src:
        t = Scalar.const(y)
    r = S.alu(op, s, t, is64, signed)
    assert_holds(r, concrete_alu(op, x, y, is64, signed), f"{op:#x} is64={is64}")


@SET
@given(scalar_with_member(), st.sampled_from([S.BPF_LSH, S.BPF_RSH, S.BPF_ARSH]), st.booleans(), st.integers(0, 70))
def test_shift_by_constant_sound(a, op, is64, n):
    s, x = a
    r = S.alu(op, s, Scalar.const(n), is64)
    if n >= (64 if is64 else 32):
        assert r == S.UNKNOWN  # the kernel gives up on out-of-range shifts
    assert_holds(r, concrete_alu(op, x, n, is64))


EDGE_VALUES = st.one_of(
    st.sampled_from([0, 1, 2, 31, 32, 33, 63, 64, 65, 0x7FFFFFFF, 0x80000000, M32, 1 << 32, (1 << 32) + 1,
                     (1 << 63) - 1, 1 << 63, M64 - 1, M64]),
    st.integers(0, M64))


@SET
@given(EDGE_VALUES, EDGE_VALUES, st.sampled_from(ALU_OPS), st.booleans())
def test_alu_on_known_values_equals_the_bounds_rules(a, b, op, is64):
    """alu's shortcut for two known operands gives what the bounds and tnum rules give."""
    x, y = Scalar.const(a), Scalar.const(b)
    if op in (S.BPF_DIV, S.BPF_MOD):
        assert S.alu(op, x, y, is64) == S.UNKNOWN  # the kernel does not track them
        return
    assert S.alu(op, x, y, is64) == S._alu_bounds(op, x, y, is64)


@SET
@given(scalar_with_member(), EDGE_VALUES)
def test_alu_shortcut_needs_consistent_constants(a, v):
    """A constant tnum whose bounds were reset (after an invariant violation) takes the full rules."""
    s, _ = a
    lost = S.mark_unbounded(Scalar.const(v))
    assert not S.is_known(lost)
    assert S.is_known(Scalar.const(v))
    assert S.alu(S.BPF_ADD, lost, s, True) == S._alu_bounds(S.BPF_ADD, lost, s, True)


@SET
@given(EDGE_VALUES, st.integers(0, 8), st.integers(0, M64), st.integers(0, M64), st.booleans())
def test_check_reg_agrees_with_sanity_check(v, field, w, mask, const):
    """condjmp.check_reg reports exactly the scalars sanity_check finds inconsistent (and leaves the others)."""
    from pyverifier import condjmp
    from pyverifier import regs as R

    s = Scalar.const(v) if const else S.alu(S.BPF_AND, S.UNKNOWN, Scalar.const(mask), True)
    if field:  # disturb one bound
        vals = list(s)
        vals[field] = w if field in (3, 4, 7, 8) else sx(w, 64 if field < 5 else 32)
        if field in (7, 8):
            vals[field] &= M32
        s = Scalar(*vals)

    class _V:
        logged: list = []

        class prog:
            prog_flags = 0

        class log:
            @staticmethod
            def write(t):
                _V.logged.append(t)

    class _F:
        regs = [R.scalar_of(s)]

    class _St:
        frames = [_F]
        curframe = 0

    v_ = _V()
    v_.state = _St
    _V.logged = []
    condjmp.check_reg(v_, 0, "alu")
    assert (not _V.logged) == (S.sanity_check(s) is None)


def test_div_mod_give_unknown():
    a = S.alu(S.BPF_AND, S.UNKNOWN, Scalar.const(255), True)
    for op in (S.BPF_DIV, S.BPF_MOD):
        for is64 in (True, False):
            assert S.alu(op, a, Scalar.const(3), is64) == S.UNKNOWN
            assert S.alu(op, a, Scalar.const(3), is64, signed=True) == S.UNKNOWN


@SET
@given(scalar_with_member(), st.sampled_from([16, 32, 64]), st.booleans(), st.booleans())
def test_byte_swap_sound(a, bits, alu64, to_be):
    s, x = a
    r = S.byte_swap(s, bits, alu64, to_be)
    if alu64 or to_be:
        want = int.from_bytes((x & ((1 << bits) - 1)).to_bytes(bits // 8, "little"), "big")
    else:
        want = x & ((1 << bits) - 1)
    if r is None:
        assert bits == 64 and not alu64 and not to_be
        r = s
    assert_holds(r, want)


@SET
@given(scalar_with_member(), st.sampled_from([1, 2, 4]))
def test_coerce_and_sign_extension_sound(a, size):
    s, x = a
    bits = size * 8
    assert_holds(S.coerce_to_size(s, size), x & ((1 << bits) - 1), "coerce")
    assert_holds(S.coerce_to_size_sx(s, size), sx(x, bits) & M64, "coerce_sx")
    assert_holds(S.movsx64(s, bits), sx(x, bits) & M64, "movsx64")
    if size < 4:
        assert_holds(S.movsx32(s, bits), sx(x, bits) & M32, "movsx32")
    assert_holds(S.zext32(s), x & M32, "zext32")
    assert_holds(S.mov32(s), x & M32, "mov32")
    assert S.coerce_to_size(s, 8) is s


@SET
@given(scalar_with_member(), scalar_with_member(), st.sampled_from(COND_OPS), st.booleans(), st.booleans())
def test_branch_taken_and_refine_sound(a, b, op, is32, const_src):
    (s, x), (t, y) = a, b
    if const_src:
        t = Scalar.const(y)
    holds = concrete_cond(op, x, y, is32)
    taken = S.branch_taken(s, t, op, is32)
    if taken == 1:
        assert holds
    elif taken == 0:
        assert not holds
    else:
        path_op = op if holds else S.negate_op(op)
        rs, rt = S.refine(s, t, path_op, is32)
        assert_holds(rs, x, f"refine dst {path_op:#x} is32={is32}")
        assert_holds(rt, y, f"refine src {path_op:#x} is32={is32}")


@SET
@given(scalar_with_member(), VALUES, st.sampled_from(COND_OPS), st.booleans(), st.booleans())
def test_refine_of_a_constant_equals_the_full_rule(a, c, op, is32, swap):
    """refine's shortcut (a constant operand the refinement leaves alone is returned as it is)
    gives what refining and syncing both operands gives, on either side of the comparison."""
    s, _ = a
    k = Scalar.const(c)
    d, o = (k, s) if swap else (s, k)
    for path_op in (op, S.negate_op(op)):
        if S.branch_taken(d, o, path_op if path_op != S.BPF_JSET_NOT else S.BPF_JSET, is32) != -1:
            continue
        r1, r2 = S._regs(d), S._regs(o)
        S._refine(r1, r2, path_op, is32)
        assert S.refine(d, o, path_op, is32) == (S._sync10(*r1), S._sync10(*r2))


@SET
@given(scalar_with_member(), st.sampled_from(COND_OPS), st.booleans())
def test_refine_same_register_sound(a, op, is32):
    s, x = a
    holds = concrete_cond(op, x, x, is32)
    taken = S.branch_taken(s, s, op, is32)
    if taken != -1:
        assert taken == int(holds)
        return
    path_op = op if holds else S.negate_op(op)
    r1, r2 = S.refine(s, s, path_op, is32, same=True)
    assert r1 == r2
    assert_holds(r1, x)


@SET
@given(scalar_with_member(), st.sampled_from([S.BPF_AND, S.BPF_OR]), st.booleans(), VALUES)
def test_fork_split_sound(a, op, is64, c):
    s, x = a
    split = S.fork_split(op, s, Scalar.const(c), is64)
    if split is not None:
        assert split[0].contains(x) or split[1].contains(x)


@SET
@given(scalar_with_member(), scalar_with_member())
def test_within(a, b):
    (s, x), (t, _) = a, b
    assert S.within(s, s) and S.range_within(S.UNKNOWN, s) and S.within(S.UNKNOWN, s)
    if S.within(t, s):
        assert t.contains(x)


def test_constants_and_negate():
    c = Scalar.const(-1)
    assert c.umin == M64 and c.smin == -1 and c.u32_max == M32 and c.s32_min == -1
    assert S.negate_op(S.negate_op(S.BPF_JSET)) == S.BPF_JSET
    for op in COND_OPS:
        assert S.negate_op(S.negate_op(op)) == op
        assert S.flip_op(S.flip_op(op)) == op


def test_sanity_check_message():
    bad = Scalar(T.Tnum(0, 0x3FF), 0, 0x3E8, 0, 0x3E8, 0, 0x3E8, 0x229F068C, 0x3E8)
    assert S.sanity_check(bad) == (
        "range bounds violation u64=[0x0, 0x3e8] s64=[0x0, 0x3e8] u32=[0x229f068c, 0x3e8] "
        "s32=[0x0, 0x3e8] var_off=(0x0, 0x3ff)"
    )
    assert S.format(S.mark_unbounded(bad)) == "scalar(var_off=(0x0; 0x3ff))"


# --------------------------------------------------------------------------
# log text: strings taken from the live kernel's log
# --------------------------------------------------------------------------


def test_format_examples():
    u8 = S.alu(S.BPF_AND, S.UNKNOWN, Scalar.const(255), True)
    assert S.format(u8) == "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    assert S.format(S.UNKNOWN) == "scalar()"
    assert S.format(S.UNKNOWN, id=2) == "scalar(id=2)"
    assert S.format(S.UNKNOWN, id=4, add_const=-255) == "scalar(id=4-255)"
    assert S.format(u8, id=3, precise=True) == (
        "Pscalar(id=3,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    )
    assert S.format(Scalar.const(0)) == "0"
    assert S.format(Scalar.const(0), precise=True) == "P0"
    assert S.format(Scalar.const(-1)) == "-1"
    assert S.format(Scalar.const(32767)) == "32767"
    assert S.format(Scalar.const(32768)) == "0x8000"
    assert S.format(Scalar.const(-32768)) == "-32768"
    assert S.format(Scalar.const(-65536)) == "0xffffffffffff0000"
    assert S.format(Scalar.const(1 << 63)) == "0x8000000000000000"
    r7 = S.alu(S.BPF_OR, S.alu(S.BPF_AND, S.UNKNOWN, Scalar.const(3), True), Scalar.const(16), True)
    assert S.format(r7) == "scalar(smin=umin=smin32=umin32=16,smax=umax=smax32=umax32=19,var_off=(0x10; 0x3))"
    assert S.format(S.alu(S.BPF_MUL, u8, r7, True)) == (
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=4845,var_off=(0x0; 0x1fff))"
    )
    assert S.format(S.alu(S.BPF_NEG, u8, u8, True)) == "scalar(smin=smin32=-255,smax=smax32=0)"
    assert S.format(S.alu(S.BPF_NEG, u8, u8, False)) == (
        "scalar(smin=0,smax=umax=0xffffffff,smin32=-255,smax32=0,var_off=(0x0; 0xffffffff))"
    )
    assert S.format(S.byte_swap(u8, 32, False, True)) == (
        "scalar(smin=0,smax=umax=umax32=0xff000000,smax32=0x7f000000,var_off=(0x0; 0xff000000))"
    )
    assert S.format(S.byte_swap(u8, 64, True, False)) == (
        "scalar(smax=0x7f00000000000000,umax=0xff00000000000000,smin32=0,smax32=umax32=0,"
        "var_off=(0x0; 0xff00000000000000))"
    )
    # unsigned values print in decimal up to 0xffff, signed ones within s16
    u = Scalar.from_bounds(umin=65535)
    assert S.format(u) == "scalar(umin=65535)"
    assert S.format(Scalar.from_bounds(T.Tnum(0x8000, M64 ^ M32), umin=0x8000)) == (
        "scalar(smin=0x8000000000008000,smax=0x7fffffff00008000,umin=smin32=umin32=32768,"
        "umax=0xffffffff00008000,smax32=umax32=0x8000,var_off=(0x8000; 0xffffffff00000000))"
    )


# --------------------------------------------------------------------------
# precision against the live kernel
# --------------------------------------------------------------------------

REGS = (6, 7, 8, 9)
_RAND_OPS = [0x00, 0x10, 0x30, 0x40, 0x50, 0x50, 0x50, 0x40, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xC0, 0xB0]
_IMMS = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 1000, 4095, 0x7FFF,
         0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, -1, -2, -8, -16, -128, -255, -256, -4096,
         -0x8000, -0x80000000, 0x12345678, -0x12345678, 0x55555555, 0x0F0F0F0F, 0xFF00, 0xFFF0]


def _rand_imm(rng):
    return rng.choice(_IMMS) if rng.random() < 0.7 else rng.randrange(-(2**31), 2**31)


def build_program(body):
    """r6..r9 = unknown scalars, ``body``, ``r0 = 0; exit``, and one private
    ``exit`` per conditional jump (jumps in ``body`` may carry any off)."""
    pro = []
    for r in REGS:
        pro += [Insn(0x85, 0, 0, 0, 7), Insn(0xBF, r, 0, 0, 0)]
    pro.append(Insn(0xB7, 0, 0, 0, 0))
    out = pro + list(body) + [Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
    njmp = 0
    for i in range(len(pro), len(pro) + len(body)):
        ins = out[i]
        if ins.code & 7 in (5, 6) and ins.code & 0xF0 not in (0x00, 0x80, 0x90):
            target = len(out) + njmp
            njmp += 1
            out[i] = ins._replace(off=target - i - 1)
    for _ in range(njmp):
        out.append(Insn(0x95, 0, 0, 0, 0))
    return out


def random_body(rng, n_ops):
    """Random ALU/END/MOVSX/JMP instructions on r6..r9 (no MUL: see the module doc)."""
    body = []
    for _ in range(n_ops):
        k = rng.random()
        dst, src = rng.choice(REGS), rng.choice(REGS)
        if k < 0.55:
            cls = 0x07 if rng.random() < 0.6 else 0x04
            op = rng.choice(_RAND_OPS)
            use_x = rng.random() < 0.35
            off = 1 if op in (0x30, 0x90) and rng.random() < 0.3 else 0
            if op in (0x60, 0x70, 0xC0):
                imm = rng.randrange(64 if cls == 0x07 else 32)
            else:
                imm = _rand_imm(rng)
            if op in (0x30, 0x90) and not use_x and imm == 0:
                imm = 3
            if op == 0x80:
                body.append(Insn(cls | op, dst, 0, 0, 0))
            elif op == 0xB0:
                if use_x and src != dst:
                    if rng.random() < 0.4:
                        off = rng.choice([8, 16, 32] if cls == 0x07 else [8, 16])
                    body.append(Insn(cls | op | 0x08, dst, src, off, 0))
                    body.append(Insn(0x27, src, 0, 0, 1))  # src *= 1: drops the id link
                else:
                    body.append(Insn(cls | op, dst, 0, 0, imm))
            elif use_x:
                body.append(Insn(cls | op | 0x08, dst, src, off, 0))
            else:
                body.append(Insn(cls | op, dst, 0, off, imm))
        elif k < 0.62:
            body.append(Insn(rng.choice([0xD4, 0xDC, 0xD7]), dst, 0, 0, rng.choice([16, 32, 64])))
        else:
            cls = 0x05 if rng.random() < 0.65 else 0x06
            op = rng.choice([0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0])
            if rng.random() < 0.3:
                body.append(Insn(cls | op | 0x08, dst, src, 0, 0))
            else:
                body.append(Insn(cls | op, dst, 0, 0, _rand_imm(rng)))
    return body


def _k(ins):
    return Scalar.const(ins.imm & M64)


def simulate(insns):
    """Follow the verifier's first path through a program made by
    :func:`build_program`; returns the states the kernel would print:
    ``after[pc][reg]``, ``taken[pc][reg]`` (jump targets), ``forks[pc][reg]``."""
    regs: dict[int, Scalar] = {}
    after: dict[int, dict[int, Scalar] | None] = {}
    taken: dict[int, dict[int, Scalar]] = {}
    forks: dict[int, dict[int, Scalar]] = {}
    pc = 0
    while pc < len(insns):
        ins = insns[pc]
        code, cls, d = ins.code, ins.code & 7, ins.dst
        if code == 0x85:
            regs[0] = S.UNKNOWN
        elif code == 0x18:  # ld_imm64: two slots
            regs[d] = Scalar.const((ins.imm & M32) | (insns[pc + 1].imm & M32) << 32)
            after[pc] = {d: regs[d]}
            pc += 2
            continue
        elif code == 0x95:
            break
        elif cls in (0x04, 0x07):
            op, is64, x = code & 0xF0, cls == 0x07, code & 0x08
            if op == S.BPF_MOV:
                if x:
                    s = regs[ins.src]
                    if ins.off:
                        regs[d] = S.movsx64(s, ins.off) if is64 else S.movsx32(s, ins.off)
                    else:
                        regs[d] = s if is64 else S.mov32(s)
                    after[pc] = {d: regs[d], ins.src: regs[ins.src]}
                else:
                    regs[d] = Scalar.const(ins.imm & (M64 if is64 else M32))
                    after[pc] = {d: regs[d]}
            elif op == S.BPF_END:
                res = S.byte_swap(regs[d], ins.imm, is64, bool(x))
                if res is not None:
                    regs[d] = res
                after[pc] = {d: regs[d]}
            else:
                src = regs[ins.src] if x else _k(ins)
                split = S.fork_split(op, regs[d], src, is64)
                if split is not None:
                    regs[d] = split[0]
                    forks[pc] = {d: split[1]}
                regs[d] = S.alu(op, regs[d], src, is64, ins.off == 1)
                after[pc] = {d: regs[d]}
                if x:
                    after[pc][ins.src] = regs[ins.src]
        elif cls in (0x05, 0x06):
            op, is32, x = code & 0xF0, cls == 0x06, code & 0x08
            a = regs[d]
            b = regs[ins.src] if x else _k(ins)
            same = bool(x) and ins.src == d
            t = S.branch_taken(a, b, op, is32)
            if t == 1:
                pc += ins.off + 1
                continue
            if t == -1:
                ta, tb = S.refine(a, b, op, is32, same)
                fa, fb = S.refine(a, b, S.negate_op(op), is32, same)
                ta, tb, fa, fb = (v if S.sanity_check(v) is None else S.mark_unbounded(v) for v in (ta, tb, fa, fb))
                taken[pc] = {d: ta}
                regs[d] = fa
                if x and not same:
                    taken[pc][ins.src] = tb
                    regs[ins.src] = fb
                after[pc] = {d: regs[d]}
                if x:
                    after[pc][ins.src] = regs[ins.src]
            else:
                after[pc] = None
        else:
            raise ValueError(f"unexpected insn {ins}")
        pc += 1
    return after, taken, forks


_LINE = re.compile(r"^(\d+): \(([0-9a-f]{2})\) .*?; (R\d+=.*)$")
_FROM = re.compile(r"^from (\d+) to (\d+): (.*)$")
_SPLIT = re.compile(r" (?=R\d+=)")
_MARKS = re.compile(r"^(P?)(?:scalar\((?:id=(\d+)([+-]\d+)?,?)?)?")


def _state(text):
    out = {}
    for tok in _SPLIT.split(text.strip()):
        m = re.match(r"R(\d+)=(.*)$", tok)
        if m and int(m.group(1)) in REGS:
            out[m.group(1)] = m.group(2)
    return out


def parse_log(log):
    """The kernel's printed states of r6..r9 on the first path: fall-through
    states after each insn, the ``from N to M`` state of each of its jumps and
    the ``from N to N`` state of each of its forks."""
    after, taken, forks = {}, {}, {}
    first_path = True
    cut = None  # states are popped last-in first-out: once the path forked
    # at insn F is popped, lines from insns >= F belong to that forked path
    for line in log.splitlines():
        m = _FROM.match(line)
        if m:
            first_path = False
            a, b = m.group(1), m.group(2)
            if cut is not None and int(a) >= cut:
                continue
            if a == b:
                forks.setdefault(a, _state(m.group(3)))
                cut = int(a)
            else:
                taken.setdefault(a, _state(m.group(3)))
        elif first_path:
            m = _LINE.match(line)
            if m:
                after[m.group(1)] = _state(m.group(3))
    return {"after": after, "taken": taken, "forks": forks}


def render_like(kernel_text, s):
    """``format(s)`` with the id, add_const and P marks of the kernel's text."""
    m = _MARKS.match(kernel_text)
    return S.format(
        s,
        id=int(m.group(2)) if m.group(2) else 0,
        add_const=int(m.group(3)) if m.group(3) else None,
        precise=m.group(1) == "P",
    )


def mismatches(insns, kernel):
    after, taken, forks = simulate(insns)
    ours = {"after": after, "taken": taken, "forks": forks}
    bad = []
    for kind in ("after", "taken", "forks"):
        for pc, regs in kernel[kind].items():
            mine = ours[kind].get(int(pc))
            for reg, text in regs.items():
                if mine is None or int(reg) not in mine:
                    if kind == "after":
                        bad.append(f"{kind} {pc} R{reg}: kernel {text}, we printed nothing")
                    continue
                got = render_like(text, mine[int(reg)])
                if got != text:
                    bad.append(f"{kind} {pc} R{reg}: kernel {text} ours {got}")
    for kind in ("taken", "forks"):
        if {str(k) for k in ours[kind]} != set(kernel[kind]):
            bad.append(f"{kind}: kernel at {sorted(kernel[kind])}, ours at {sorted(ours[kind])}")
    return bad


def I(code, dst=0, src=0, off=0, imm=0):  # noqa: E743
    return Insn(code, dst, src, off, imm)


# One targeted program per feature; registers: r6..r9 unknown at the start.
_U8 = [I(0x57, 6, imm=0xFF), I(0x57, 7, imm=3), I(0x47, 7, imm=0x10)]  # r6 in [0,255], r7 in [16,19]
_NEG1_0 = [I(0xC7, 8, imm=63)]  # r8 in [-1, 0]
TARGETED = {
    "add": _U8 + [I(0x0F, 6, 7), I(0x07, 7, imm=-10), I(0x07, 8, imm=5)],
    "add_wraps": _U8 + [I(0xA5, 6, imm=5), I(0x25, 6, imm=200), I(0x18, 9, imm=0), I(0, imm=-(2**31)),
                        I(0x4F, 6, 9), I(0x0F, 6, 9)],
    "sub": _U8 + [I(0x1F, 6, 7), I(0x17, 7, imm=100), I(0x1C, 8, 7)],
    "mul": _U8 + [I(0xBF, 8, 6), I(0x27, 6, imm=1), I(0x2F, 8, 7), I(0x2C, 7, 7), I(0x27, 9, imm=3)],
    "div_mod": _U8 + [I(0x3F, 6, 7), I(0x9F, 7, 7), I(0x3C, 8, 7), I(0x34, 9, imm=3), I(0x37, 9, off=1, imm=-3)],
    "and_or_xor": _U8 + [I(0x5F, 8, 6), I(0x47, 9, imm=0x100), I(0xAF, 9, 7), I(0xA4, 6, imm=-1), I(0x4C, 7, 6)],
    "lsh": _U8 + [I(0x67, 6, imm=8), I(0x64, 7, imm=30), I(0x67, 8, imm=32), I(0x6F, 9, 7)],
    "lsh32_of_s32": [I(0x66, 6, imm=-10, off=1), I(0x67, 6, imm=32), I(0xC7, 6, imm=32)],
    "rsh": _U8 + [I(0x77, 6, imm=4), I(0x74, 8, imm=31), I(0x77, 9, imm=63), I(0x7F, 7, 7)],
    "arsh": _NEG1_0 + [I(0xC7, 9, imm=60), I(0xC4, 6, imm=28), I(0xC5, 7, imm=-100), I(0xC7, 7, imm=2)],
    "neg": _U8 + [I(0x87, 6), I(0x84, 7), I(0x87, 8)],
    "alu32": _U8 + [I(0x04, 6, imm=-1), I(0x14, 7, imm=100), I(0x5C, 8, 6), I(0xBC, 9, 7), I(0xB4, 6, imm=-5)],
    "movsx": _U8 + [I(0xBF, 8, 6, off=8), I(0x27, 6, imm=1), I(0xBF, 9, 7, off=16), I(0x27, 7, imm=1),
                    I(0xBC, 6, 8, off=8), I(0x27, 8, imm=1), I(0xBF, 7, 9, off=32)],
    "end": _U8 + [I(0xDC, 6, imm=16), I(0xDC, 7, imm=32), I(0xDC, 8, imm=64), I(0xD4, 9, imm=16),
                  I(0xD7, 6, imm=32), I(0xD7, 7, imm=64), I(0xD4, 8, imm=32), I(0xD4, 9, imm=64)],
    "fork_and_or": _NEG1_0 + [I(0x57, 8, imm=12), I(0xC4, 9, imm=31), I(0x47, 9, imm=12)],
    "branches": [I(0xA5, 6, imm=10), I(0x25, 6, imm=1000), I(0x65, 7, imm=5), I(0xC5, 7, imm=-5),
                 I(0x15, 8, imm=0), I(0x55, 9, imm=0), I(0x2D, 6, 7), I(0xBD, 9, 8)],
    "branches32": [I(0xA6, 6, imm=10), I(0x26, 6, imm=1000), I(0x66, 7, imm=5), I(0xC6, 7, imm=-5),
                   I(0x16, 8, imm=7), I(0x3E, 9, 6), I(0x5E, 6, 9)],
    "jset": [I(0x57, 6, imm=0xFF), I(0x45, 6, imm=0x10), I(0x46, 7, imm=-8), I(0x4D, 8, 6)],
    "sign_crossing": [I(0xC5, 6, imm=-10), I(0x65, 6, imm=10), I(0x18, 7, imm=-5), I(0, imm=0x7FFFFFFF),
                      I(0xAD, 6, 7), I(0x25, 6, imm=-3)],
    "tnum_single_value": [I(0x57, 6, imm=0x10), I(0x15, 6, imm=0), I(0x57, 7, imm=0x11), I(0xB5, 7, imm=1),
                          I(0xA5, 7, imm=16)],
    "same_register": [I(0x57, 6, imm=0xFF), I(0x2D, 6, 6), I(0x1D, 6, 6), I(0xBE, 7, 7)],
}


def targeted_programs():
    return {name: build_program(body) for name, body in TARGETED.items()}


def random_programs(n=120, seed0=1000):
    out = {}
    for i in range(n):
        rng = random.Random(seed0 + i)
        out[f"random_{seed0 + i}"] = build_program(random_body(rng, rng.choice([4, 8, 12, 16])))
    return out


def all_programs():
    progs = targeted_programs()
    progs.update(random_programs())
    return progs


def kernel_log(insns):
    """The live kernel's level-2 log for a socket_filter program, or None if bpf() is unusable."""
    from kernel_loader import load
    from pyverifier.program import Program

    prog = Program(id="tests/scalar", source="tests", name="scalar_probe", prog_type=1, insns=encode(insns))
    res = load(prog, log_level=2)
    if res.verdict != "accept":
        raise AssertionError(f"kernel refused the probe program: {res.message}\n{res.log[-2000:]}")
    return res.log


def _load_cases():
    return json.loads(DATA.read_text())


def test_recorded_kernel_cases():
    """Our states equal what the kernel printed for the recorded programs."""
    cases = _load_cases()
    assert len(cases) >= 100
    failures = []
    for case in cases:
        insns = decode(bytes.fromhex(case["insns"]))
        bad = mismatches(insns, case["kernel"])
        if bad:
            failures.append(f"{case['name']}: " + "; ".join(bad[:3]))
    assert not failures, "\n".join(failures[:20])


def test_recorded_cases_cover_every_feature():
    names = {c["name"] for c in _load_cases()}
    assert set(TARGETED) <= names
    ops = set()
    for c in _load_cases():
        for ins in decode(bytes.fromhex(c["insns"])):
            if ins.code & 7 in (4, 7):
                ops.add(ins.code & 0xF0)
    assert {0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0} <= ops


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(TARGETED))
def test_live_kernel_targeted(name):
    insns = targeted_programs()[name]
    bad = mismatches(insns, parse_log(kernel_log(insns)))
    assert not bad, "\n".join(bad)


@pytest.mark.bpf
def test_live_kernel_random_programs():
    failures = []
    for name, insns in random_programs(n=60, seed0=5000).items():
        bad = mismatches(insns, parse_log(kernel_log(insns)))
        if bad:
            failures.append(f"{name}: {bad[:2]}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.bpf
def test_live_kernel_matches_recorded_cases():
    """The recorded answers are still what the running kernel says."""
    for case in _load_cases()[:40]:
        insns = decode(bytes.fromhex(case["insns"]))
        assert parse_log(kernel_log(insns)) == case["kernel"], case["name"]


def regenerate():
    cases = []
    for name, insns in all_programs().items():
        cases.append({"name": name, "insns": encode(insns).hex(), "kernel": parse_log(kernel_log(insns))})
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps(cases, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(cases)} cases to {DATA}")


if __name__ == "__main__":
    if "--regen" in sys.argv:
        regenerate()
    else:
        print("usage: python tests/test_scalar.py --regen   (needs bpf())")
