"""The value domain of a scalar register: a tnum plus eight interval bounds.

This module is the Python counterpart of the scalar-tracking part of the Linux
verifier (the kernel this project targets: 6.18 as shipped on the reference
machine, whose live verifier is the oracle the tests compare against). A
:class:`Scalar` holds what the verifier knows of a 64-bit value:

* ``var_off``: a :class:`~pyverifier.tnum.Tnum` (known bits);
* ``smin``/``smax``: signed 64-bit bounds (Python ints in ``[-2**63, 2**63)``);
* ``umin``/``umax``: unsigned 64-bit bounds (``[0, 2**64)``);
* ``s32_min``/``s32_max``, ``u32_min``/``u32_max``: the same for the low 32 bits.

A ``Scalar`` is an immutable tuple (a ``NamedTuple``): register states can share
it freely, two scalars compare equal exactly when all nine fields agree, and it
can be hashed.

Everything the kernel does to those fields for ALU instructions, loads,
sign-extending moves, byte swaps and conditional jumps is here, with the
kernel's precision and its imprecisions:

* ``DIV``/``MOD`` (signed or not, 32 or 64 bit) make the destination fully
  unknown (64 bits, no zero extension);
* shifts by an amount that is not a known constant below the operand width
  make the destination fully unknown (for 32-bit shifts the kernel compares
  the source's *64-bit* umax with 32);
* ``MUL`` tracks bounds only while no product can overflow;
* ``ADD``/``SUB`` keep unsigned bounds when both ends wrap;
* byte swaps are tracked through the tnum (``le64`` is a no-op);
* ``x << 32`` moves the s32 range into the s64 range, negative or not;
* the false branch of ``JSET`` keeps only the tnum: the bounds start over;
* bounds sync (``reg_bounds_sync``) collapses to a constant when the unsigned
  range and the tnum share a single value, handles signed ranges that cross
  the sign boundary in both widths, and runs the deduction three times
  (fewer when a round changes nothing: the next would start from the same fields).

The kernel this targets is the reference machine's ``6.18.44``, which
carries verifier changes newer than 6.18.0 (byte-swap tracking, ``tnum_step``,
JSET, the ``AND``/``OR`` fork of ``[-1, 0]`` registers); every rule above was
checked against its live verifier (tests/test_scalar.py) rather than taken on
trust from a source tree.

``MUL``'s tnum is the kernel's long multiplication with the union of both
outcomes for each unknown multiplier bit (:func:`pyverifier.tnum.mul`),
checked against the live kernel on random programs with ``MUL``.

The identity of registers (``id`` links, the ``+off`` of ``BPF_ADD_CONST``
links, precision marks) is *not* part of the value: the caller (the register
state) keeps those and passes them to :func:`format`.

Internally every operation works on a list of ten ints
``[value, mask, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max]``
(the kernel's ``bpf_reg_state`` fields, mutated in the kernel's order) and
builds one ``Scalar`` at the end. The bounds sync, the hottest code, is one
function on ten locals (``_sync10``) that returns the ``Scalar`` itself.
Speed-ups here never change a result: each was checked against the previous
implementation on random and targeted inputs besides the tests.
"""
from __future__ import annotations

from typing import NamedTuple

from pyverifier import tnum as _tn
from pyverifier.tnum import M32, M64, Tnum
from pyverifier.tnum import step_ints as _step

S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
S32_MIN = -(1 << 31)
S32_MAX = (1 << 31) - 1
U64_MAX = M64
U32_MAX = M32
_HI32 = M64 ^ M32
_TWO64 = 1 << 64
_TWO32 = 1 << 32
_S64_SIGN = 1 << 63

# ALU operation and conditional jump nibbles (BPF_OP of the opcode), from the instruction set's table
from .opcodes import (  # noqa: E402
    BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE,
    BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR,
    BPF_RSH, BPF_SUB, BPF_XOR,
)

#: The negation of ``JSET`` ("no bit in common"), which has no opcode of its
#: own; the kernel spells it ``BPF_JSET | BPF_X`` and so do we.
BPF_JSET_NOT = 0x48

_NEGATE = {
    BPF_JEQ: BPF_JNE,
    BPF_JNE: BPF_JEQ,
    BPF_JSET: BPF_JSET_NOT,
    BPF_JSET_NOT: BPF_JSET,
    BPF_JGE: BPF_JLT,
    BPF_JLT: BPF_JGE,
    BPF_JGT: BPF_JLE,
    BPF_JLE: BPF_JGT,
    BPF_JSGE: BPF_JSLT,
    BPF_JSLT: BPF_JSGE,
    BPF_JSGT: BPF_JSLE,
    BPF_JSLE: BPF_JSGT,
}
_FLIP = {
    BPF_JEQ: BPF_JEQ,
    BPF_JNE: BPF_JNE,
    BPF_JSET: BPF_JSET,
    BPF_JSET_NOT: BPF_JSET_NOT,
    BPF_JGE: BPF_JLE,
    BPF_JLE: BPF_JGE,
    BPF_JGT: BPF_JLT,
    BPF_JLT: BPF_JGT,
    BPF_JSGE: BPF_JSLE,
    BPF_JSLE: BPF_JSGE,
    BPF_JSGT: BPF_JSLT,
    BPF_JSLT: BPF_JSGT,
}


def negate_op(op: int) -> int:
    """The condition that holds on the fall-through path of jump ``op``.

    ``negate_op(BPF_JSET)`` is :data:`BPF_JSET_NOT`, accepted by :func:`refine`.
    """
    return _NEGATE[op]


def flip_op(op: int) -> int:
    """The condition with its operands swapped (``a < b`` is ``b > a``)."""
    return _FLIP[op]


class Scalar(NamedTuple):
    """What is known of one 64-bit scalar value (immutable)."""

    var_off: Tnum
    smin: int
    smax: int
    umin: int
    umax: int
    s32_min: int
    s32_max: int
    u32_min: int
    u32_max: int

    @staticmethod
    def const(v: int) -> "Scalar":
        """Exactly the 64-bit value ``v`` (any int, taken modulo 2**64)."""
        s = _CONSTS.get(v)
        if s is None:
            s = _const(v & M64)
            # programs repeat their constants: kept across programs; a program of random
            # immediates fills the table, which then starts again from the small ones
            if len(_CONSTS) >= _CONSTS_MAX:
                _CONSTS.clear()
                _CONSTS.update(_SMALL_CONSTS)
            _CONSTS[v] = s
        return s

    @staticmethod
    def unknown() -> "Scalar":
        """Any 64-bit value."""
        return UNKNOWN

    @staticmethod
    def from_bounds(
        var_off: Tnum = _tn.UNKNOWN,
        smin: int = S64_MIN,
        smax: int = S64_MAX,
        umin: int = 0,
        umax: int = U64_MAX,
        s32_min: int = S32_MIN,
        s32_max: int = S32_MAX,
        u32_min: int = 0,
        u32_max: int = U32_MAX,
        sync: bool = True,
    ) -> "Scalar":
        """A scalar from explicit fields, by default made consistent with :func:`sync`."""
        if sync:
            return _sync10(var_off[0], var_off[1], smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max)
        return _mk([var_off[0], var_off[1], smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max])

    def is_const(self) -> bool:
        return not self.var_off.mask

    def contains(self, x: int) -> bool:
        """True if the concrete 64-bit value ``x`` satisfies all nine fields."""
        x &= M64
        sx = x - _TWO64 if x >> 63 else x
        x32 = x & M32
        sx32 = x32 - _TWO32 if x32 >> 31 else x32
        v, m = self.var_off
        return (
            (x & ~m) == v
            and self.umin <= x <= self.umax
            and self.smin <= sx <= self.smax
            and self.u32_min <= x32 <= self.u32_max
            and self.s32_min <= sx32 <= self.s32_max
        )

    def __str__(self) -> str:
        return format(self)


_new = tuple.__new__


def _mk(r: list) -> Scalar:
    return _new(Scalar, (_new(Tnum, (r[0], r[1])), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]))


def _regs(s: Scalar) -> list:
    t, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max = s
    return [t[0], t[1], smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max]


def _s64(x: int) -> int:
    x &= M64
    return x - _TWO64 if x >> 63 else x


def _s32(x: int) -> int:
    x &= M32
    return x - _TWO32 if x >> 31 else x


def _const(v: int) -> Scalar:
    """Exactly ``v`` (in ``[0, 2**64)``)."""
    sv = v - _TWO64 if v >> 63 else v
    v32 = v & M32
    sv32 = v32 - _TWO32 if v32 >> 31 else v32
    return _new(Scalar, (_new(Tnum, (v, 0)), sv, sv, v, v, sv32, sv32, v32, v32))


UNKNOWN = _new(Scalar, (_tn.UNKNOWN, S64_MIN, S64_MAX, 0, U64_MAX, S32_MIN, S32_MAX, 0, U32_MAX))
ZERO = _const(0)
# The constants programs use most (immediates, offsets, sizes), built once and shared (a Scalar is immutable).
_CONSTS: dict[int, Scalar] = {v: _const(v & M64) for v in range(-512, 4097)}
_CONSTS_MAX = 1 << 15
_SMALL_CONSTS = dict(_CONSTS)


# --------------------------------------------------------------------------
# field-level building blocks (mutate a 10-int list)
# --------------------------------------------------------------------------


def _set_known(r: list, x: int) -> None:
    x &= M64
    sx = x - _TWO64 if x >> 63 else x
    x32 = x & M32
    sx32 = x32 - _TWO32 if x32 >> 31 else x32
    r[0] = x
    r[1] = 0
    r[2] = r[3] = sx
    r[4] = r[5] = x
    r[6] = r[7] = sx32
    r[8] = r[9] = x32


def _set_known32(r: list, x: int) -> None:
    x32 = x & M32
    r[0] = (r[0] & _HI32) | x32
    r[1] &= _HI32
    r[6] = r[7] = x32 - _TWO32 if x32 >> 31 else x32
    r[8] = r[9] = x32


def _unbounded64(r: list) -> None:
    r[2] = S64_MIN
    r[3] = S64_MAX
    r[4] = 0
    r[5] = U64_MAX


def _unbounded32(r: list) -> None:
    r[6] = S32_MIN
    r[7] = S32_MAX
    r[8] = 0
    r[9] = U32_MAX


def _unbounded(r: list) -> None:
    r[2] = S64_MIN
    r[3] = S64_MAX
    r[4] = 0
    r[5] = U64_MAX
    r[6] = S32_MIN
    r[7] = S32_MAX
    r[8] = 0
    r[9] = U32_MAX


def _update32(r: list) -> None:
    """Tighten the 32-bit bounds with what the low half of the tnum says."""
    v = r[0] & M32
    m = r[1] & M32
    x = ((v | (m & 0x8000_0000)) ^ 0x8000_0000) - 0x8000_0000
    if x > r[6]:
        r[6] = x
    x = ((v | (m & 0x7FFF_FFFF)) ^ 0x8000_0000) - 0x8000_0000
    if x < r[7]:
        r[7] = x
    if v > r[8]:
        r[8] = v
    x = v | m
    if x < r[9]:
        r[9] = x


def _update10(v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32):
    """Tighten all bounds with the tnum (32-bit half, then 64 bits); collapse
    to a constant when the unsigned range and the tnum share a single value.
    Takes and returns the ten fields as a tuple."""
    v32 = v & M32
    m32 = m & M32
    x = ((v32 | (m32 & 0x8000_0000)) ^ 0x8000_0000) - 0x8000_0000
    if x > smin32:
        smin32 = x
    x = ((v32 | (m32 & 0x7FFF_FFFF)) ^ 0x8000_0000) - 0x8000_0000
    if x < smax32:
        smax32 = x
    if v32 > umin32:
        umin32 = v32
    x = v32 | m32
    if x < umax32:
        umax32 = x
    x = ((v | (m & _S64_SIGN)) ^ _S64_SIGN) - _S64_SIGN
    if x > smin:
        smin = x
    x = ((v | (m & S64_MAX)) ^ _S64_SIGN) - _S64_SIGN
    if x < smax:
        smax = x
    if v > umin:
        umin = v
    tmax = v | m
    if tmax < umax:
        umax = tmax
    # the smallest member of the tnum above umin (tnum_step), inlined for
    # its two cheap cases
    if umin >= tmax:
        nxt = tmax
    elif umin < v:
        nxt = v
    else:
        nxt = umin + 1
        if (nxt ^ v) & ~m:
            nxt = _step(v, m, umin)
    if (umin & ~m) == v:
        if nxt > umax:
            x = umin
        else:
            return v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32
    elif nxt == tmax:
        x = tmax
    elif nxt <= umax and _step(v, m, nxt) > umax:
        x = nxt
    else:
        return v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32
    # a single value: every field is that constant
    sx = x - _TWO64 if x >> 63 else x
    x32 = x & M32
    sx32 = x32 - _TWO32 if x32 >> 31 else x32
    return x, 0, sx, sx, x, x, sx32, sx32, x32, x32


def _update(r: list) -> None:
    r[:] = _update10(*r)


def _sync10(v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32) -> Scalar:
    """The kernel's reg_bounds_sync on the ten fields; returns the ``Scalar``.

    One function on locals (this is the hottest code of the verifier): the
    tnum tightens the bounds (``_update10``), then up to three rounds of
    deductions between the 64-bit and 32-bit, signed and unsigned ranges
    (three as the live kernel runs them: measured, two leave some
    64-to-32-bit consequences undrawn; a round that changes nothing ends them
    early, since every further round would start from the same fields), then
    the ranges tighten the tnum and the tnum the bounds once more.

    A known value (``m == 0``) inside all four ranges syncs to exactly that
    constant: every rule only narrows ranges that already hold it, so the
    full computation is skipped.

    The masks and limits are written as literals here (``0xFFFF_FFFF`` is
    ``M32``, ``0x8000_0000_0000_0000`` the s64 sign bit, ...): constants cost
    less than module globals in this loop.
    """
    if not m:
        sv = v - 0x1_0000_0000_0000_0000 if v >> 63 else v
        v32 = v & 0xFFFF_FFFF
        sv32 = v32 - 0x1_0000_0000 if v32 >> 31 else v32
        if smin <= sv <= smax and umin <= v <= umax and smin32 <= sv32 <= smax32 and umin32 <= v32 <= umax32:
            return _new(Scalar, (_new(Tnum, (v, 0)), sv, sv, v, v, sv32, sv32, v32, v32))
    # -- the tnum tightens the bounds (_update10, inlined)
    v32 = v & 0xFFFF_FFFF
    m32 = m & 0xFFFF_FFFF
    x = ((v32 | (m32 & 0x8000_0000)) ^ 0x8000_0000) - 0x8000_0000
    if x > smin32:
        smin32 = x
    x = ((v32 | (m32 & 0x7FFF_FFFF)) ^ 0x8000_0000) - 0x8000_0000
    if x < smax32:
        smax32 = x
    if v32 > umin32:
        umin32 = v32
    x = v32 | m32
    if x < umax32:
        umax32 = x
    x = ((v | (m & 0x8000_0000_0000_0000)) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    if x > smin:
        smin = x
    x = ((v | (m & 0x7FFF_FFFF_FFFF_FFFF)) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    if x < smax:
        smax = x
    if v > umin:
        umin = v
    tmax = v | m
    if tmax < umax:
        umax = tmax
    if umin >= tmax:
        nxt = tmax
    elif umin < v:
        nxt = v
    else:
        nxt = umin + 1
        if (nxt ^ v) & ~m:
            nxt = _step(v, m, umin)
    if (umin & ~m) == v:
        x = umin if nxt > umax else -1
    elif nxt == tmax:
        x = tmax
    elif nxt <= umax and _step(v, m, nxt) > umax:
        x = nxt
    else:
        x = -1
    if x >= 0:
        # a single value: every field is that constant
        v = umin = umax = x
        m = 0
        smin = smax = x - 0x1_0000_0000_0000_0000 if x >> 63 else x
        umin32 = umax32 = x & 0xFFFF_FFFF
        smin32 = smax32 = umin32 - 0x1_0000_0000 if umin32 >> 31 else umin32
    for _round in _ROUNDS:
        before = (v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32)
        # -- what the 64-bit ranges say about the low 32 bits
        # 64-bit ranges whose upper halves agree are valid 32-bit ranges
        if umin >> 32 == umax >> 32:
            lo = umin & 0xFFFF_FFFF
            hi = umax & 0xFFFF_FFFF
            if lo > umin32:
                umin32 = lo
            if hi < umax32:
                umax32 = hi
            lo = (lo ^ 0x8000_0000) - 0x8000_0000
            hi = (hi ^ 0x8000_0000) - 0x8000_0000
            if lo <= hi:
                if lo > smin32:
                    smin32 = lo
                if hi < smax32:
                    smax32 = hi
        if smin >> 32 == smax >> 32:
            lo = smin & 0xFFFF_FFFF
            hi = smax & 0xFFFF_FFFF
            if lo <= hi:
                if lo > umin32:
                    umin32 = lo
                if hi < umax32:
                    umax32 = hi
            lo = (lo ^ 0x8000_0000) - 0x8000_0000
            hi = (hi ^ 0x8000_0000) - 0x8000_0000
            if lo <= hi:
                if lo > smin32:
                    smin32 = lo
                if hi < smax32:
                    smax32 = hi
        # upper halves are two consecutive numbers and the low halves cross
        # from negative to non-negative: still a valid s32 range
        if ((umin >> 32) + 1) & 0xFFFF_FFFF == (umax >> 32) & 0xFFFF_FFFF:
            lo = ((umin & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            hi = ((umax & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            if lo < 0 <= hi:
                if lo > smin32:
                    smin32 = lo
                if hi < smax32:
                    smax32 = hi
        if ((smin >> 32) + 1) & 0xFFFF_FFFF == (smax >> 32) & 0xFFFF_FFFF:
            lo = ((smin & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            hi = ((smax & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            if lo < 0 <= hi:
                if lo > smin32:
                    smin32 = lo
                if hi < smax32:
                    smax32 = hi
        # -- signed and unsigned 32-bit ranges tighten each other
        # an unsigned range not crossing the sign bit is a signed range
        lo = ((umin32 & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
        hi = ((umax32 & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
        if lo <= hi:
            if lo > smin32:
                smin32 = lo
            if hi < smax32:
                smax32 = hi
        # a signed range not crossing zero is an unsigned range
        lo = smin32 & 0xFFFF_FFFF
        hi = smax32 & 0xFFFF_FFFF
        if lo <= hi:
            if lo > umin32:
                umin32 = lo
            if hi < umax32:
                umax32 = hi
        # the signed range wraps in unsigned order: if the unsigned range
        # meets only one of its two pieces, both ranges shrink to it
        elif umax32 < lo:
            smin32 = ((umin32 & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            if hi < umax32:
                umax32 = hi
        elif hi < umin32:
            smax32 = ((umax32 & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000
            if lo > umin32:
                umin32 = lo
        # -- the same for the 64-bit ranges
        lo = ((umin & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
        hi = ((umax & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
        if lo <= hi:
            if lo > smin:
                smin = lo
            if hi < smax:
                smax = hi
        lo = smin & 0xFFFF_FFFF_FFFF_FFFF
        hi = smax & 0xFFFF_FFFF_FFFF_FFFF
        if lo <= hi:
            if lo > umin:
                umin = lo
            if hi < umax:
                umax = hi
        elif umax < lo:
            smin = ((umin & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
            if hi < umax:
                umax = hi
        elif hi < umin:
            smax = ((umax & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
            if lo > umin:
                umin = lo
        # -- 32-bit bounds placed inside the 64-bit ones
        x = (umin & 0xFFFF_FFFF_0000_0000) | umin32
        if x > umin:
            umin = x
        x = (umax & 0xFFFF_FFFF_0000_0000) | umax32
        if x < umax:
            umax = x
        x = ((((smin & 0xFFFF_FFFF_0000_0000) | umin32) & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
        if x > smin:
            smin = x
        x = ((((smax & 0xFFFF_FFFF_0000_0000) | umax32) & 0xFFFF_FFFF_FFFF_FFFF) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
        if x < smax:
            smax = x
        # a 64-bit range within s32 whose 32-bit signed range is non-negative
        if smin32 >= 0 and smin >= -0x8000_0000 and smax <= 0x7FFF_FFFF:
            smin = umin = lo = smin32
            smax = umax = hi = smax32
            # var_off &= range(lo, hi) (tnum_intersect with tnum_range)
            delta = (1 << ((lo ^ hi) & 0xFFFF_FFFF_FFFF_FFFF).bit_length()) - 1
            mu = m & delta
            v = (v | (lo & ~delta & 0xFFFF_FFFF_FFFF_FFFF)) & ~mu
            m = mu
        if before == (v, m, smin, smax, umin, umax, smin32, smax32, umin32, umax32):
            break
    # -- the unsigned ranges tighten the tnum (64-bit range for the whole
    # value, 32-bit range for the low half)
    bits = (umin ^ umax).bit_length()
    if bits > 63:
        mu = m
    else:
        delta = (1 << bits) - 1
        mu = m & delta
        v = (v | (umin & ~delta)) & ~mu
    delta = (1 << (umin32 ^ umax32).bit_length()) - 1
    mu32 = mu & delta & 0xFFFF_FFFF
    v = (v & 0xFFFF_FFFF_0000_0000) | (((v | (umin32 & ~delta)) & 0xFFFF_FFFF) & ~mu32)
    m = ((mu & 0xFFFF_FFFF_0000_0000) | mu32) & ~v
    # -- the tnum tightens the bounds (_update10, inlined)
    v32 = v & 0xFFFF_FFFF
    m32 = m & 0xFFFF_FFFF
    x = ((v32 | (m32 & 0x8000_0000)) ^ 0x8000_0000) - 0x8000_0000
    if x > smin32:
        smin32 = x
    x = ((v32 | (m32 & 0x7FFF_FFFF)) ^ 0x8000_0000) - 0x8000_0000
    if x < smax32:
        smax32 = x
    if v32 > umin32:
        umin32 = v32
    x = v32 | m32
    if x < umax32:
        umax32 = x
    x = ((v | (m & 0x8000_0000_0000_0000)) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    if x > smin:
        smin = x
    x = ((v | (m & 0x7FFF_FFFF_FFFF_FFFF)) ^ 0x8000_0000_0000_0000) - 0x8000_0000_0000_0000
    if x < smax:
        smax = x
    if v > umin:
        umin = v
    tmax = v | m
    if tmax < umax:
        umax = tmax
    if umin >= tmax:
        nxt = tmax
    elif umin < v:
        nxt = v
    else:
        nxt = umin + 1
        if (nxt ^ v) & ~m:
            nxt = _step(v, m, umin)
    if (umin & ~m) == v:
        x = umin if nxt > umax else -1
    elif nxt == tmax:
        x = tmax
    elif nxt <= umax and _step(v, m, nxt) > umax:
        x = nxt
    else:
        x = -1
    if x >= 0:
        # a single value: every field is that constant
        v = umin = umax = x
        m = 0
        smin = smax = x - 0x1_0000_0000_0000_0000 if x >> 63 else x
        umin32 = umax32 = x & 0xFFFF_FFFF
        smin32 = smax32 = umin32 - 0x1_0000_0000 if umin32 >> 31 else umin32
    return _new(Scalar, (_new(Tnum, (v, m)), smin, smax, umin, umax, smin32, smax32, umin32, umax32))


_ROUNDS = (0, 1, 2)


def _sync(r: list) -> None:
    """The kernel's reg_bounds_sync on a 10-int list (in place)."""
    s = _sync10(*r)
    r[0], r[1] = s[0]
    r[2:] = s[1:]


def sync(s: Scalar) -> Scalar:
    """Make all nine fields agree with each other (the kernel's reg_bounds_sync)."""
    t = s[0]
    return _sync10(t[0], t[1], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8])


def _zext(r: list) -> None:
    """A 32-bit result: the upper half is zero, 64-bit bounds from 32-bit ones."""
    r[0] &= M32
    r[1] &= M32
    r[4] = r[8]
    r[5] = r[9]
    if r[6] >= 0 and r[7] >= 0:
        r[2] = r[6]
        r[3] = r[7]
    else:
        r[2] = 0
        r[3] = U32_MAX


def zext32(s: Scalar) -> Scalar:
    """The value of the low 32 bits, zero-extended (no sync; ``mov32`` syncs)."""
    r = _regs(s)
    _zext(r)
    return _mk(r)


def sanity_check(s: Scalar) -> str | None:
    """The kernel's check of a register after branch refinement.

    ``None`` if the bounds are consistent; otherwise the text the kernel logs
    after ``verifier bug: REG INVARIANTS VIOLATION (<ctx>): `` (``ctx`` being
    ``true_reg1``, ``true_reg2``, ``false_reg1`` or ``false_reg2``), e.g.
    ``range bounds violation u64=[0x0, 0x3e8] s64=[...] u32=[...] s32=[...]
    var_off=(0x0, 0x3ff)``. The kernel then carries on with
    :func:`mark_unbounded` of the register.
    """
    t, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max = s
    if umin > umax or smin > smax or u32_min > u32_max or s32_min > s32_max:
        msg = "range bounds violation"
    else:
        v, mask = t
        if mask & M32:  # the common case: neither constant test applies
            return None
        # (the signed values inline: this runs after every ALU op and load)
        v32 = v & M32
        if not mask and not (umin == umax == v and smin == smax == (v - _TWO64 if v >> 63 else v)):
            msg = "const tnum out of sync with range bounds"
        elif not (u32_min == u32_max == v32 and s32_min == s32_max == (v32 - _TWO32 if v32 >> 31 else v32)):
            msg = "const subreg tnum out of sync with range bounds"
        else:
            return None
    return (
        f"{msg} u64=[{s.umin:#x}, {s.umax:#x}] s64=[{s.smin & M64:#x}, {s.smax & M64:#x}] "
        f"u32=[{s.u32_min:#x}, {s.u32_max:#x}] s32=[{s.s32_min & M32:#x}, {s.s32_max & M32:#x}] "
        f"var_off=({s.var_off.value:#x}, {s.var_off.mask:#x})"
    )


def is_valid(s: Scalar) -> bool:
    """True if :func:`sanity_check` finds nothing wrong."""
    return sanity_check(s) is None


def mark_unbounded(s: Scalar) -> Scalar:
    """All eight bounds reset, the tnum kept (what the kernel does to a register
    that failed :func:`is_valid`)."""
    return _new(Scalar, (s.var_off, S64_MIN, S64_MAX, 0, U64_MAX, S32_MIN, S32_MAX, 0, U32_MAX))


# --------------------------------------------------------------------------
# ALU
# --------------------------------------------------------------------------


def _add32(r: list, s: Scalar) -> None:
    lo = r[6] + s.s32_min
    hi = r[7] + s.s32_max
    if lo < S32_MIN or lo > S32_MAX or hi < S32_MIN or hi > S32_MAX:
        r[6] = S32_MIN
        r[7] = S32_MAX
    else:
        r[6] = lo
        r[7] = hi
    lo = r[8] + s.u32_min
    hi = r[9] + s.u32_max
    if lo <= U32_MAX < hi:
        r[8] = 0
        r[9] = U32_MAX
    else:
        r[8] = lo & M32
        r[9] = hi & M32


def _add64(r: list, s: Scalar) -> None:
    lo = r[2] + s.smin
    hi = r[3] + s.smax
    if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
        r[2] = S64_MIN
        r[3] = S64_MAX
    else:
        r[2] = lo
        r[3] = hi
    lo = r[4] + s.umin
    hi = r[5] + s.umax
    if lo <= U64_MAX < hi:
        r[4] = 0
        r[5] = U64_MAX
    else:
        r[4] = lo & M64
        r[5] = hi & M64


def _sub32(r: list, s: Scalar) -> None:
    lo = r[6] - s.s32_max
    hi = r[7] - s.s32_min
    if lo < S32_MIN or lo > S32_MAX or hi < S32_MIN or hi > S32_MAX:
        r[6] = S32_MIN
        r[7] = S32_MAX
    else:
        r[6] = lo
        r[7] = hi
    lo = r[8] - s.u32_max
    hi = r[9] - s.u32_min
    if lo < 0 <= hi:
        r[8] = 0
        r[9] = U32_MAX
    else:
        r[8] = lo & M32
        r[9] = hi & M32


def _sub64(r: list, s: Scalar) -> None:
    lo = r[2] - s.smax
    hi = r[3] - s.smin
    if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
        r[2] = S64_MIN
        r[3] = S64_MAX
    else:
        r[2] = lo
        r[3] = hi
    lo = r[4] - s.umax
    hi = r[5] - s.umin
    if lo < 0 <= hi:
        r[4] = 0
        r[5] = U64_MAX
    else:
        r[4] = lo & M64
        r[5] = hi & M64


def _mul32(r: list, s: Scalar) -> None:
    hi = r[9] * s.u32_max
    lo = r[8] * s.u32_min
    if hi > U32_MAX or lo > U32_MAX:
        r[8] = 0
        r[9] = U32_MAX
    else:
        r[8] = lo
        r[9] = hi
    a, b, c, d = r[6] * s.s32_min, r[6] * s.s32_max, r[7] * s.s32_min, r[7] * s.s32_max
    lo = min(a, b, c, d)
    hi = max(a, b, c, d)
    if lo < S32_MIN or hi > S32_MAX:
        r[6] = S32_MIN
        r[7] = S32_MAX
    else:
        r[6] = lo
        r[7] = hi


def _mul64(r: list, s: Scalar) -> None:
    hi = r[5] * s.umax
    lo = r[4] * s.umin
    if hi > U64_MAX or lo > U64_MAX:
        r[4] = 0
        r[5] = U64_MAX
    else:
        r[4] = lo
        r[5] = hi
    a, b, c, d = r[2] * s.smin, r[2] * s.smax, r[3] * s.smin, r[3] * s.smax
    lo = min(a, b, c, d)
    hi = max(a, b, c, d)
    if lo < S64_MIN or hi > S64_MAX:
        r[2] = S64_MIN
        r[3] = S64_MAX
    else:
        r[2] = lo
        r[3] = hi


def _s32_from_u32_range(r: list) -> None:
    lo, hi = _s32(r[8]), _s32(r[9])
    if lo <= hi:
        r[6] = lo
        r[7] = hi
    else:
        r[6] = S32_MIN
        r[7] = S32_MAX


def _s64_from_u64_range(r: list) -> None:
    lo, hi = _s64(r[4]), _s64(r[5])
    if lo <= hi:
        r[2] = lo
        r[3] = hi
    else:
        r[2] = S64_MIN
        r[3] = S64_MAX


# The bitwise ops below run after the tnum of the result is in r[0:2]; "known"
# tests look at the result tnum for dst and at the source's own tnum.


def _and32(r: list, s: Scalar) -> None:
    if not (s.var_off.mask & M32) and not (r[1] & M32):
        _set_known32(r, r[0])
        return
    r[8] = r[0] & M32
    if s.u32_max < r[9]:
        r[9] = s.u32_max
    _s32_from_u32_range(r)


def _and64(r: list, s: Scalar) -> None:
    if not s.var_off.mask and not r[1]:
        _set_known(r, r[0])
        return
    r[4] = r[0]
    if s.umax < r[5]:
        r[5] = s.umax
    _s64_from_u64_range(r)


def _or32(r: list, s: Scalar) -> None:
    if not (s.var_off.mask & M32) and not (r[1] & M32):
        _set_known32(r, r[0])
        return
    if s.u32_min > r[8]:
        r[8] = s.u32_min
    r[9] = (r[0] | r[1]) & M32
    _s32_from_u32_range(r)


def _or64(r: list, s: Scalar) -> None:
    if not s.var_off.mask and not r[1]:
        _set_known(r, r[0])
        return
    if s.umin > r[4]:
        r[4] = s.umin
    r[5] = r[0] | r[1]
    _s64_from_u64_range(r)


def _xor32(r: list, s: Scalar) -> None:
    if not (s.var_off.mask & M32) and not (r[1] & M32):
        _set_known32(r, r[0])
        return
    r[8] = r[0] & M32
    r[9] = (r[0] | r[1]) & M32
    _s32_from_u32_range(r)


def _xor64(r: list, s: Scalar) -> None:
    if not s.var_off.mask and not r[1]:
        _set_known(r, r[0])
        return
    r[4] = r[0]
    r[5] = r[0] | r[1]
    _s64_from_u64_range(r)


def _lsh32_bounds(r: list, lo: int, hi: int) -> None:
    r[6] = S32_MIN
    r[7] = S32_MAX
    if hi > 31 or r[9] > 1 << (31 - hi):
        r[8] = 0
        r[9] = U32_MAX
    else:
        r[8] = (r[8] << lo) & M32
        r[9] = (r[9] << hi) & M32


def _lsh64(r: list, n: int) -> None:
    if n == 32:
        # the low half moves to the high half: the s32 range becomes the
        # s64 range (the common "<<32 s>>32" sign-extension idiom)
        r[2] = r[6] << 32
        r[3] = r[7] << 32
    else:
        r[2] = S64_MIN
        r[3] = S64_MAX
    if r[5] > 1 << (63 - n):
        r[4] = 0
        r[5] = U64_MAX
    else:
        r[4] = (r[4] << n) & M64
        r[5] = (r[5] << n) & M64
    _lsh32_bounds(r, n, n)
    r[0] = (r[0] << n) & M64
    r[1] = (r[1] << n) & M64


def _lsh32(r: list, n: int) -> None:
    v, m = r[0] & M32, r[1] & M32
    _lsh32_bounds(r, n, n)
    r[0] = (v << n) & M32
    r[1] = (m << n) & M32
    _unbounded64(r)
    _update32(r)


def _rsh64(r: list, n: int) -> None:
    r[2] = S64_MIN
    r[3] = S64_MAX
    r[0] >>= n
    r[1] >>= n
    r[4] >>= n
    r[5] >>= n
    _unbounded32(r)


def _rsh32(r: list, n: int) -> None:
    r[6] = S32_MIN
    r[7] = S32_MAX
    r[0] = (r[0] & M32) >> n
    r[1] = (r[1] & M32) >> n
    r[8] >>= n
    r[9] >>= n
    _unbounded64(r)
    _update32(r)


def _arsh64(r: list, n: int) -> None:
    r[2] >>= n
    r[3] >>= n
    r[0], r[1] = _tn.arshift(Tnum(r[0], r[1]), n, 64)
    r[4] = 0
    r[5] = U64_MAX
    _unbounded32(r)


def _arsh32(r: list, n: int) -> None:
    r[6] >>= n
    r[7] >>= n
    r[0], r[1] = _tn.arshift(Tnum(r[0] & M32, r[1] & M32), n, 32)
    r[8] = 0
    r[9] = U32_MAX
    _unbounded64(r)
    _update32(r)


def _shift_amount(src: Scalar, is64: bool) -> int:
    """The shift amount if the kernel computes shift results, else -1."""
    if is64:
        if src.var_off.mask or src.smin != src.smax or src.umin != src.umax:
            return -1
        n = src.umin
        return n if n < 64 else -1
    if (src.var_off.mask & M32) or src.s32_min != src.s32_max or src.u32_min != src.u32_max:
        return -1
    # the kernel checks the *64-bit* umax against the width
    if src.umax >= 32:
        return -1
    return src.u32_min


def alu(op: int, dst: Scalar, src: Scalar, is64: bool, signed: bool = False) -> Scalar:
    """The value of ``dst op= src`` for a scalar destination.

    ``op`` is the BPF_OP nibble; ``is64`` selects ALU64 (else ALU, whose
    result is zero-extended); ``signed`` marks sdiv/smod (``off == 1``), which
    the kernel tracks no better than the unsigned forms. For an immediate
    source pass ``Scalar.const(imm)`` with ``imm`` sign-extended to 64 bits, as
    the kernel does. ``NEG`` ignores ``src``. ``MOV`` returns the moved value
    (``src`` for 64 bits; zero-extended and synced for 32 bits). ``END`` needs
    more than an op: use :func:`byte_swap`.
    """
    if op == BPF_DIV or op == BPF_MOD:
        return UNKNOWN
    if op == BPF_MOV:
        return src if is64 else mov32(src)
    if op == BPF_END:
        raise ValueError("BPF_END: use byte_swap()")
    if not dst[0][1] and not src[0][1] and is_known(dst) and is_known(src):
        c = _alu_known(op, dst[0][0], src[0][0], is64)
        if c is not None:
            return Scalar.const(c)
    return _alu_bounds(op, dst, src, is64)


def is_known(s: Scalar) -> bool:
    """``s`` is exactly one value: a constant tnum and every range that single value."""
    t, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max = s
    v, m = t
    if m or umin != v or umax != v:
        return False
    if _CONSTS.get(v) is s:  # the shared constant itself
        return True
    v32 = v & 0xFFFF_FFFF
    return u32_min == u32_max == v32 and smin == smax == (v - _TWO64 if v >> 63 else v) and \
        s32_min == s32_max == (v32 - _TWO32 if v32 >> 31 else v32)


def _alu_known(op: int, a: int, b: int, is64: bool) -> int | None:
    """The value of ``a op= b`` when both are known, zero-extended for 32 bits; None when the
    kernel's result is not that value (a shift by the width or more: unknown)."""
    if is64:
        bits, mask = 64, M64
    else:
        bits, mask = 32, M32
        a &= M32
    if op == BPF_ADD:
        return (a + b) & mask
    if op == BPF_SUB:
        return (a - b) & mask
    if op == BPF_AND:
        return a & b & mask
    if op == BPF_OR:
        return (a | b) & mask
    if op == BPF_XOR:
        return (a ^ b) & mask
    if op == BPF_MUL:
        return (a * (b & mask)) & mask
    if op == BPF_NEG:
        return -a & mask
    if op == BPF_LSH or op == BPF_RSH or op == BPF_ARSH:
        if b >= bits:  # the kernel compares the whole 64-bit source with the width
            return None
        if op == BPF_LSH:
            return (a << b) & mask
        if op == BPF_RSH:
            return a >> b
        return ((a - (1 << bits) if a >> (bits - 1) else a) >> b) & mask
    return None


def _alu_bounds(op: int, dst: Scalar, src: Scalar, is64: bool) -> Scalar:
    """``alu`` through the kernel's bounds and tnum rules (any operands)."""
    r = _regs(dst)
    if op == BPF_ADD:
        _add32(r, src)
        _add64(r, src)
        r[0], r[1] = _tn.add(dst.var_off, src.var_off)
    elif op == BPF_SUB:
        _sub32(r, src)
        _sub64(r, src)
        r[0], r[1] = _tn.sub(dst.var_off, src.var_off)
    elif op == BPF_MUL:
        r[0], r[1] = _tn.mul(dst.var_off, src.var_off)
        _mul32(r, src)
        _mul64(r, src)
    elif op == BPF_AND:
        r[0], r[1] = _tn.and_(dst.var_off, src.var_off)
        _and32(r, src)
        _and64(r, src)
        if not is64:
            _update(r)
    elif op == BPF_OR:
        r[0], r[1] = _tn.or_(dst.var_off, src.var_off)
        _or32(r, src)
        _or64(r, src)
        if not is64:
            _update(r)
    elif op == BPF_XOR:
        r[0], r[1] = _tn.xor(dst.var_off, src.var_off)
        _xor32(r, src)
        _xor64(r, src)
        if not is64:
            _update(r)
    elif op == BPF_NEG:
        _set_known(r, 0)
        _sub32(r, dst)
        _sub64(r, dst)
        r[0], r[1] = _tn.neg(dst.var_off)
    elif op == BPF_LSH or op == BPF_RSH or op == BPF_ARSH:
        n = _shift_amount(src, is64)
        if n < 0:
            return UNKNOWN
        if is64:
            (_lsh64 if op == BPF_LSH else _rsh64 if op == BPF_RSH else _arsh64)(r, n)
        else:
            (_lsh32 if op == BPF_LSH else _rsh32 if op == BPF_RSH else _arsh32)(r, n)
    else:
        raise ValueError(f"not an ALU op: {op:#x}")
    # The kernel updates the bounds from the tnum after the 64-bit bitwise
    # ops and shifts; a 64-bit result goes straight into the sync, which
    # starts with that same (idempotent) update, so it is done only before
    # a 32-bit result's zero extension reads the bounds.
    if not is64:
        _zext(r)
    return _sync10(*r)


def fork_split(op: int, dst: Scalar, src: Scalar, is64: bool) -> tuple[Scalar, Scalar] | None:
    """Whether the kernel splits the path before ``dst op= src``, and how.

    The live kernel forks the verifier state when ``AND`` or ``OR`` with a
    constant source (immediate, or a register known constant in the
    instruction's width) meets a destination that is either -1 or 0 (the
    ``x s>> 63`` select idiom): one path continues with the destination
    known -1, the other is pushed *at the same instruction* (the log prints
    ``from N to N:``) with the destination known 0. The 64-bit range decides
    first; failing that, a 32-bit range of [-1, 0] fixes only the low half
    (upper half and 64-bit bounds left as they were).

    Returns ``(value to continue with, value for the pushed state)`` for the
    destination *before* the operation (apply :func:`alu` to both), or
    ``None`` when the kernel does not fork.
    """
    if op != BPF_AND and op != BPF_OR:
        return None
    if is64:
        if src.var_off.mask:
            return None
    elif src.var_off.mask & M32:
        return None
    if dst.smin == -1 and dst.smax == 0:
        return _const(M64), ZERO
    if dst.s32_min == -1 and dst.s32_max == 0:
        r = _regs(dst)
        _set_known32(r, M32)
        minus1 = _mk(r)
        r = _regs(dst)
        _set_known32(r, 0)
        return minus1, _mk(r)
    return None


def mov32(src: Scalar) -> Scalar:
    """``w_dst = w_src``: the low half, zero-extended, synced."""
    r = _regs(src)
    _zext(r)
    return _sync10(*r)


def byte_swap(s: Scalar, bits: int, alu64: bool, to_be: bool) -> Scalar | None:
    """``BPF_END``: ``bswapN`` (``alu64``), else ``beN`` (``to_be``) or ``leN``,
    on this little-endian machine.

    Returns ``None`` for ``le64``, which the kernel leaves entirely alone (the
    register keeps its value *and* its id); every other form returns a new
    value and the caller clears the id.
    """
    swap = alu64 or to_be
    if not swap and bits == 64:
        return None
    r = _regs(s)
    if swap:
        if bits == 16:
            t = _tn.bswap16(s.var_off)
        elif bits == 32:
            t = _tn.bswap32(s.var_off)
        else:
            t = _tn.bswap64(s.var_off)
        r[0], r[1] = t
        _unbounded(r)
    if bits != 64:
        _coerce(r, bits // 8)
    return _sync10(*r)


# --------------------------------------------------------------------------
# truncation and sign extension
# --------------------------------------------------------------------------


def _coerce(r: list, size: int) -> None:
    mask = (1 << (size * 8)) - 1
    r[0] &= mask
    r[1] &= mask
    if (r[4] & ~mask) == (r[5] & ~mask):
        r[4] &= mask
        r[5] &= mask
    else:
        r[4] = 0
        r[5] = mask
    r[2] = r[4]
    r[3] = r[5]
    if size < 4:
        _unbounded32(r)
    _sync(r)


def coerce_to_size(s: Scalar, size: int) -> Scalar:
    """Keep the low ``size`` bytes (1, 2, 4; 8 is the identity): a zero-extending load."""
    if size >= 8:
        return s
    key = (s, size)
    out = _COERCED.get(key)
    if out is None:
        r = _regs(s)
        _coerce(r, size)
        out = _mk(r)
        if len(_COERCED) < 4096:
            _COERCED[key] = out
    return out


# coerce_to_size's answers (Scalars are immutable values; loads mostly coerce the same few, e.g. unknown)
_COERCED: dict[tuple[Scalar, int], Scalar] = {}


def coerce_to_size_sx(s: Scalar, size: int) -> Scalar:
    """Sign-extend the low ``size`` bytes (1, 2, 4) to 64 bits.

    What a sign-extending load or ``rX = (sN)rY`` leaves in the register; the
    kernel does not sync afterwards, and neither does this.
    """
    v, m = s.var_off
    bits = size * 8
    if not m:
        x = v & ((1 << bits) - 1)
        if x >> (bits - 1):
            x -= 1 << bits
        return _const(x & M64)
    top_max = (s.smax & M64) >> bits
    top_min = (s.smin & M64) >> bits
    if top_max == top_min:
        half = 1 << (bits - 1)
        a = ((s.smax + half) & ((1 << bits) - 1)) - half
        b = ((s.smin + half) & ((1 << bits) - 1)) - half
        hi = max(a, b)
        lo = min(a, b)
        if (hi >= 0) == (lo >= 0):
            t = _tn.range(lo & M64, hi & M64)
            return _new(Scalar, (t, lo, hi, lo & M64, hi & M64, _s32(lo), _s32(hi), lo & M32, hi & M32))
    smin = -(1 << (bits - 1))
    smax = (1 << (bits - 1)) - 1
    return _new(Scalar, (_tn.UNKNOWN, smin, smax, 0, U64_MAX, smin, smax, 0, U32_MAX))


def _coerce_subreg_sx(r: list, size: int) -> None:
    bits = size * 8
    if not r[1]:
        x = r[0] & ((1 << bits) - 1)
        if x >> (bits - 1):
            x -= 1 << bits
        r[0] = x & M64
        r[6] = r[7] = x
        r[8] = r[9] = x & M32
        return
    top_max = (r[7] & M32) >> bits
    top_min = (r[6] & M32) >> bits
    if top_max == top_min:
        half = 1 << (bits - 1)
        a = ((r[7] + half) & ((1 << bits) - 1)) - half
        b = ((r[6] + half) & ((1 << bits) - 1)) - half
        hi = max(a, b)
        lo = min(a, b)
        if (hi >= 0) == (lo >= 0):
            r[6] = lo
            r[7] = hi
            r[8] = lo & M32
            r[9] = hi & M32
            t = _tn.range(lo & M64, hi & M64)
            r[0] = t.value & M32
            r[1] = t.mask & M32
            return
    r[6] = -(1 << (bits - 1))
    r[7] = (1 << (bits - 1)) - 1
    r[8] = 0
    r[9] = U32_MAX
    r[0] = 0
    r[1] = M32


def movsx64(src: Scalar, bits: int) -> Scalar:
    """``rX = (sN)rY`` for N in 8, 16, 32 (not synced, as in the kernel)."""
    return coerce_to_size_sx(src, bits // 8)


def movsx32(src: Scalar, bits: int) -> Scalar:
    """``wX = (sN)wY`` for N in 8, 16: sign-extend into 32 bits, zero-extend, sync."""
    r = _regs(src)
    _coerce_subreg_sx(r, bits // 8)
    _zext(r)
    return _sync10(*r)


# --------------------------------------------------------------------------
# conditional jumps
# --------------------------------------------------------------------------


def branch_taken(a: Scalar, b: Scalar, op: int, is32: bool) -> int:
    """Whether ``if a op b`` always jumps (1), never jumps (0) or may do
    either (-1), judged from the bounds as the kernel does."""
    if is32:
        t1 = Tnum(a.var_off.value & M32, a.var_off.mask & M32)
        t2 = Tnum(b.var_off.value & M32, b.var_off.mask & M32)
        umin1, umax1, smin1, smax1 = a.u32_min, a.u32_max, a.s32_min, a.s32_max
        umin2, umax2, smin2, smax2 = b.u32_min, b.u32_max, b.s32_min, b.s32_max
    else:
        t1 = a.var_off
        t2 = b.var_off
        umin1, umax1, smin1, smax1 = a.umin, a.umax, a.smin, a.smax
        umin2, umax2, smin2, smax2 = b.umin, b.umax, b.smin, b.smax
    if op == BPF_JEQ or op == BPF_JNE:
        eq = op == BPF_JEQ
        if not t1.mask and not t2.mask:
            return int((t1.value == t2.value) == eq)
        differ = (
            not _tn.overlap(t1, t2)
            or umin1 > umax2
            or umax1 < umin2
            or smin1 > smax2
            or smax1 < smin2
            or (
                not is32
                and (
                    a.u32_min > b.u32_max
                    or a.u32_max < b.u32_min
                    or a.s32_min > b.s32_max
                    or a.s32_max < b.s32_min
                )
            )
        )
        if differ:
            return 0 if eq else 1
        return -1
    if op == BPF_JSET:
        if t2.mask:
            t1, t2 = t2, t1
            if t2.mask:
                return -1
        val = t2.value
        if t1.value & val:
            return 1
        if not ((t1.mask | t1.value) & val):
            return 0
        return -1
    if op == BPF_JGT:
        if umin1 > umax2:
            return 1
        if umax1 <= umin2:
            return 0
    elif op == BPF_JSGT:
        if smin1 > smax2:
            return 1
        if smax1 <= smin2:
            return 0
    elif op == BPF_JLT:
        if umax1 < umin2:
            return 1
        if umin1 >= umax2:
            return 0
    elif op == BPF_JSLT:
        if smax1 < smin2:
            return 1
        if smin1 >= smax2:
            return 0
    elif op == BPF_JGE:
        if umin1 >= umax2:
            return 1
        if umax1 < umin2:
            return 0
    elif op == BPF_JSGE:
        if smin1 >= smax2:
            return 1
        if smax1 < smin2:
            return 0
    elif op == BPF_JLE:
        if umax1 <= umin2:
            return 1
        if umin1 > umax2:
            return 0
    elif op == BPF_JSLE:
        if smax1 <= smin2:
            return 1
        if smin1 > smax2:
            return 0
    else:
        raise ValueError(f"not a conditional jump op: {op:#x}")
    return -1


def _refine(r1: list, r2: list, op: int, is32: bool) -> None:
    if op in (BPF_JGE, BPF_JGT, BPF_JSGE, BPF_JSGT):
        op = _FLIP[op]
        r1, r2 = r2, r1
    if op == BPF_JEQ:
        if is32:
            r1[8] = max(r1[8], r2[8])
            r1[9] = min(r1[9], r2[9])
            r1[6] = max(r1[6], r2[6])
            r1[7] = min(r1[7], r2[7])
            r2[6:10] = r1[6:10]
            t = _tn.intersect(Tnum(r1[0] & M32, r1[1] & M32), Tnum(r2[0] & M32, r2[1] & M32))
            r1[0] = (r1[0] & _HI32) | t.value
            r1[1] = (r1[1] & _HI32) | t.mask
            r2[0] = (r2[0] & _HI32) | t.value
            r2[1] = (r2[1] & _HI32) | t.mask
        else:
            r1[4] = max(r1[4], r2[4])
            r1[5] = min(r1[5], r2[5])
            r1[2] = max(r1[2], r2[2])
            r1[3] = min(r1[3], r2[3])
            r2[2:6] = r1[2:6]
            t = _tn.intersect(Tnum(r1[0], r1[1]), Tnum(r2[0], r2[1]))
            r1[0], r1[1] = t
            r2[0], r2[1] = t
        return
    if op == BPF_JNE or op == BPF_JSET or op == BPF_JSET_NOT:
        cmask = M32 if is32 else M64
        if r2[1] & cmask:
            r1, r2 = r2, r1
            if r2[1] & cmask:
                return
        val = r2[0] & cmask
        if op == BPF_JNE:
            if is32:
                if r1[8] == val:
                    r1[8] += 1
                if r1[9] == val:
                    r1[9] -= 1
                sv = _s32(val)
                if r1[6] == sv:
                    r1[6] += 1
                if r1[7] == sv:
                    r1[7] -= 1
            else:
                if r1[4] == val:
                    r1[4] += 1
                if r1[5] == val:
                    r1[5] -= 1
                sv = _s64(val)
                if r1[2] == sv:
                    r1[2] += 1
                if r1[3] == sv:
                    r1[3] -= 1
        elif op == BPF_JSET:
            # only a single-bit test says which bit is set
            if not val or val & (val - 1):
                return
            r1[0] |= val
            r1[1] &= ~val
        else:
            # the live kernel keeps only the tnum here: the bounds start over
            # from it (measured: [0,100] & ~0x10 comes out as [0,0x6f])
            r1[0] &= ~val & M64
            r1[1] &= ~val & M64
            _unbounded(r1)
        return
    if op == BPF_JLE:
        if is32:
            r1[9] = min(r1[9], r2[9])
            r2[8] = max(r1[8], r2[8])
        else:
            r1[5] = min(r1[5], r2[5])
            r2[4] = max(r1[4], r2[4])
    elif op == BPF_JLT:
        if is32:
            r1[9] = min(r1[9], (r2[9] - 1) & M32)
            r2[8] = max((r1[8] + 1) & M32, r2[8])
        else:
            r1[5] = min(r1[5], (r2[5] - 1) & M64)
            r2[4] = max((r1[4] + 1) & M64, r2[4])
    elif op == BPF_JSLE:
        if is32:
            r1[7] = min(r1[7], r2[7])
            r2[6] = max(r1[6], r2[6])
        else:
            r1[3] = min(r1[3], r2[3])
            r2[2] = max(r1[2], r2[2])
    elif op == BPF_JSLT:
        if is32:
            r1[7] = min(r1[7], _s32(r2[7] - 1))
            r2[6] = max(_s32(r1[6] + 1), r2[6])
        else:
            r1[3] = min(r1[3], _s64(r2[3] - 1))
            r2[2] = max(_s64(r1[2] + 1), r2[2])
    else:
        raise ValueError(f"not a conditional jump op: {op:#x}")


def refine(a: Scalar, b: Scalar, op: int, is32: bool, same: bool = False) -> tuple[Scalar, Scalar]:
    """The values of both operands on the path where ``a op b`` holds.

    For the fall-through path pass ``negate_op(op)``. ``same`` says both
    operands are one register (``if r1 > r1``): the kernel then updates one
    register through both roles, and both results are that register's value.
    The results are synced but not sanity-checked: see :func:`is_valid`.
    Call it only when :func:`branch_taken` returned -1, as the kernel does.
    """
    r1 = _regs(a)
    if same:
        _refine(r1, r1, op, is32)
        _sync(r1)
        s = _sync10(*r1)
        return s, s
    r2 = _regs(b)
    _refine(r1, r2, op, is32)
    if not r2[1] and is_known(b) and r2 == _regs(b):
        return _sync10(*r1), b  # a constant the refinement left alone syncs to itself
    return _sync10(*r1), _sync10(*r2)


# --------------------------------------------------------------------------
# pruning helpers
# --------------------------------------------------------------------------


def range_within(old: Scalar, cur: Scalar) -> bool:
    """True if every bound of ``cur`` lies within the same bound of ``old``."""
    return (
        old.umin <= cur.umin
        and old.umax >= cur.umax
        and old.smin <= cur.smin
        and old.smax >= cur.smax
        and old.u32_min <= cur.u32_min
        and old.u32_max >= cur.u32_max
        and old.s32_min <= cur.s32_min
        and old.s32_max >= cur.s32_max
    )


def within(old: Scalar, cur: Scalar) -> bool:
    """``range_within`` and the tnum of ``cur`` inside that of ``old``."""
    return range_within(old, cur) and _tn.in_(old.var_off, cur.var_off)


# --------------------------------------------------------------------------
# log text
# --------------------------------------------------------------------------


def _snum(x: int) -> str:
    """A signed number as the kernel's log prints it: decimal within s16, else hex."""
    if -32768 <= x <= 32767:
        return str(x)
    return f"{x & M64:#x}"


def _unum(x: int) -> str:
    if x <= 0xFFFF:
        return str(x)
    return f"{x:#x}"


_FMT_NAMES = ("smin", "smax", "umin", "umax", "smin32", "smax32", "umin32", "umax32")
_FMT_SIGNED = (True, True, False, False, True, True, False, False)


def format(s: Scalar, id: int = 0, add_const: int | None = None, precise: bool = False) -> str:  # noqa: A001
    """The text the kernel's log prints after ``R<n>=`` for a scalar register.

    A constant prints as a number (``0``, ``-1``, ``0x100000000``) and nothing
    else: no id even when the register has one. Otherwise
    ``scalar(id=N+off,smin=...,var_off=(...))``: ``id`` (the register's link id,
    0 for none) comes first inside the parentheses, followed directly by
    ``add_const`` as a signed offset (``id=3+5``, ``id=3-1``) when the link is
    a ``BPF_ADD_CONST`` one, then the bounds that are not at their extreme,
    equal bounds merged (``smin=umin=0``), then ``var_off`` unless unknown.
    ``precise`` puts the ``P`` mark in front (``P0``, ``Pscalar(...)``).
    """
    p = "P" if precise else ""
    t, smin, smax, umin, umax, s32lo, s32hi, u32lo, u32hi = s
    v, m = t
    if not m:
        return p + _snum(v - _TWO64 if v >> 63 else v)
    parts = []
    if id:
        parts.append(f"id={id}" if add_const is None else f"id={id}{add_const:+d}")
    # the values compared for merging, and which are at their extreme (omitted)
    vals = (smin, smax, umin, umax, s32lo if -32768 <= s32lo <= 32767 else s32lo & M32,
            s32hi if -32768 <= s32hi <= 32767 else s32hi & M32, u32lo, u32hi)
    omit = [smin == S64_MIN, smax == S64_MAX, not umin, umax == U64_MAX, s32lo == S32_MIN, s32hi == S32_MAX,
            not u32lo, u32hi == U32_MAX]
    for i in range(8):
        if omit[i]:
            continue
        val = vals[i]
        signed = _FMT_SIGNED[i]
        # compare as the kernel does: as u64 (signed values sign-extended)
        key = val & M64
        neg = signed and val < 0
        names = _FMT_NAMES[i]
        for j in range(i + 2, 8, 2):
            if omit[j]:
                continue
            w = vals[j]
            if (w & M64) != key or (_FMT_SIGNED[j] and w < 0) != neg:
                continue
            omit[j] = True
            names += "=" + _FMT_NAMES[j]
        parts.append(names + "=" + (_snum(val) if signed else _unum(val)))
    if m != M64:
        parts.append(f"var_off=({v:#x}; {m:#x})")
    return p + "scalar(" + ",".join(parts) + ")"

