"""Tristate numbers: what the verifier knows about each bit of a 64-bit value.

A ``Tnum`` is a pair ``(value, mask)`` of unsigned 64-bit integers (Python ints
in ``[0, 2**64)``). A bit set in ``mask`` is unknown; every other bit is known
and equals the corresponding bit of ``value``. A well-formed tnum never has a
bit set in both (``value & mask == 0``). The set of concrete values a tnum
stands for is ``{x : x & ~mask == value}``.

The operations follow the Linux 6.18 verifier's tnum rules bit for bit,
including where they are imprecise, because the verifier's log prints tnums
(``var_off=(0x0; 0xff)``) and pruning compares them.

Everything here is a plain function on ints; a ``Tnum`` is a ``NamedTuple`` so
it is immutable, hashable and cheap to build. Shift amounts are assumed to be
in range (0..63, 0..31 for 32-bit forms): the callers only shift by known,
in-range amounts.
"""
from __future__ import annotations

import builtins
from typing import NamedTuple

M64 = 0xFFFF_FFFF_FFFF_FFFF
M32 = 0xFFFF_FFFF
_HI32 = M64 ^ M32
_S64_SIGN = 1 << 63


class Tnum(NamedTuple):
    value: int
    mask: int

    def __str__(self) -> str:
        return f"({self.value:#x}; {self.mask:#x})"


_new = tuple.__new__  # builds a Tnum without the NamedTuple constructor's Python-level call

#: Nothing is known about any bit.
UNKNOWN = Tnum(0, M64)
#: The interface name: ``tnum.unknown`` is a value, not a function.
unknown = UNKNOWN
ZERO = Tnum(0, 0)


def const(v: int) -> Tnum:
    """The tnum of exactly ``v`` (taken modulo 2**64)."""
    return _new(Tnum, (v & M64, 0))


def range(lo: int, hi: int) -> Tnum:  # noqa: A001 - the kernel's name
    """A tnum holding every value of the unsigned range ``[lo, hi]`` (and more).

    The bits above the highest bit where ``lo`` and ``hi`` differ are known
    (taken from ``lo``); that bit and everything below is unknown.
    """
    bits = (lo ^ hi).bit_length()
    if bits > 63:
        return UNKNOWN
    delta = (1 << bits) - 1
    return _new(Tnum, (lo & ~delta & M64, delta))


def lshift(a: Tnum, shift: int) -> Tnum:
    return _new(Tnum, ((a.value << shift) & M64, (a.mask << shift) & M64))


def rshift(a: Tnum, shift: int) -> Tnum:
    return _new(Tnum, (a.value >> shift, a.mask >> shift))


def arshift(a: Tnum, shift: int, insn_bitness: int = 64) -> Tnum:
    """Arithmetic right shift, the sign bit being bit 31 or bit 63.

    For ``insn_bitness == 32`` only the low 32 bits of ``a`` are used and the
    result is zero-extended (the upper half is known zero).
    """
    v, m = a
    if insn_bitness == 32:
        v &= M32
        m &= M32
        if v & 0x8000_0000:
            v -= 1 << 32
        if m & 0x8000_0000:
            m -= 1 << 32
        return _new(Tnum, ((v >> shift) & M32, (m >> shift) & M32))
    if v & _S64_SIGN:
        v -= 1 << 64
    if m & _S64_SIGN:
        m -= 1 << 64
    return _new(Tnum, ((v >> shift) & M64, (m >> shift) & M64))


def add(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    sv = av + bv
    # every bit whose carry may differ between the all-unknown-0 and
    # all-unknown-1 sums is unknown, as are the unknown input bits
    mu = (((am + bm + sv) ^ sv) | am | bm) & M64
    return _new(Tnum, (sv & ~mu & M64, mu))


def sub(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    dv = av - bv
    mu = (((dv + am) ^ (dv - bm)) | am | bm) & M64
    return _new(Tnum, (dv & ~mu & M64, mu))


def neg(a: Tnum) -> Tnum:
    return sub(ZERO, a)


def and_(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    v = av & bv
    return _new(Tnum, (v, (av | am) & (bv | bm) & ~v))


def or_(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    v = av | bv
    return _new(Tnum, (v, (am | bm) & ~v))


def xor(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    mu = am | bm
    return _new(Tnum, ((av ^ bv) & ~mu, mu))


def mul(a: Tnum, b: Tnum) -> Tnum:
    """Long multiplication over the bits of ``a``, as the 6.18 kernel does it.

    The running product starts at 0. A bit of ``a`` that is a known 1 adds
    ``b`` (shifted into place) with tnum addition; an unknown bit replaces the
    running product by the union of "not added" and "added", so the unknown
    bits of one partial product stay correlated with the rest (more precise
    than accumulating every uncertain partial product as unknown bits). Known
    0 bits add nothing. Checked against the live kernel: random programs with
    ``MUL`` print the same ``var_off`` (tests/test_tnum.py, tests/test_scalar.py).

    Exact shortcuts: known-0 bits of ``a`` are skipped in one shift; the loop
    ends once ``b`` has been shifted out (adding 0 to a well-formed tnum, or
    the union with itself, changes nothing) or the product is entirely
    unknown (it stays so).
    """
    av, am = a
    bv, bm = b
    pv = pm = 0  # the running product (value, mask), always well formed
    while bv or bm:
        x = av | am
        if not x & 1:
            if not x:
                break
            tz = (x & -x).bit_length() - 1
            av >>= tz
            am >>= tz
            bv = (bv << tz) & M64
            bm = (bm << tz) & M64
        # s = p + b (tnum addition)
        sv = pv + bv
        mu = (((pm + bm + sv) ^ sv) | pm | bm) & M64
        if av & 1:
            pv = sv & ~mu & M64
            pm = mu
        else:
            # unknown bit: p = union(p, p + b)
            sv &= ~mu & M64
            mu |= pm | (pv ^ sv)
            pv &= ~mu
            pm = mu
            if pm == M64:
                return UNKNOWN
        av >>= 1
        am >>= 1
        bv = (bv << 1) & M64
        bm = (bm << 1) & M64
    return _new(Tnum, (pv, pm))


def intersect(a: Tnum, b: Tnum) -> Tnum:
    """Combine the knowledge of two tnums describing the same value.

    Where they contradict (known 1 against known 0) the result says 1, as the
    kernel's does.
    """
    v = a.value | b.value
    mu = a.mask & b.mask
    return _new(Tnum, (v & ~mu, mu))


def union(a: Tnum, b: Tnum) -> Tnum:
    """The smallest tnum holding every value of ``a`` and of ``b``."""
    mu = a.mask | b.mask | (a.value ^ b.value)
    return _new(Tnum, (a.value & ~mu & M64, mu & M64))


def cast(a: Tnum, size: int) -> Tnum:
    """Keep the low ``size`` bytes (1, 2, 4 or 8)."""
    m = (1 << (size * 8)) - 1
    return _new(Tnum, (a.value & m, a.mask & m))


def is_aligned(a: Tnum, size: int) -> bool:
    if not size:
        return True
    return not ((a.value | a.mask) & (size - 1))


def in_(a: Tnum, b: Tnum) -> bool:
    """True if every value of ``b`` is also a value of ``a``."""
    if b.mask & ~a.mask:
        return False
    return a.value == b.value & ~a.mask


def contains(a: Tnum, x: int) -> bool:
    """True if the concrete 64-bit value ``x`` is one of ``a``'s values."""
    return (x & ~a.mask) == a.value


def overlap(a: Tnum, b: Tnum) -> bool:
    """True if some value belongs to both ``a`` and ``b``."""
    mu = a.mask | b.mask
    return (a.value & ~mu) == (b.value & ~mu)


def step(t: Tnum, z: int) -> int:
    """The smallest value of ``t`` greater than ``z``.

    Defined for ``t.value <= z < tmax`` (``tmax = t.value | t.mask``); below
    that range the result is ``t.value``, at or above it ``tmax``.
    """
    return step_ints(t.value, t.mask, z)


def step_ints(v: int, m: int, z: int) -> int:
    """:func:`step` on a tnum given as its two ints."""
    tmax = v | m
    if z >= tmax:
        return tmax
    if z < v:
        return v
    w = z + 1  # find the smallest member >= w (w <= tmax, so one exists)
    bad = (w ^ v) & ~m  # known bits where w disagrees with t
    if not bad:
        return w
    c = bad.bit_length() - 1
    if w >> c & 1:
        # w has a 1 where t has a known 0: go up to the lowest unknown bit
        # above c where w has a 0, set it, and take the minimum below
        free = m & ~w & ~((1 << (c + 1)) - 1)
        i = (free & -free).bit_length() - 1
    else:
        # w has a 0 where t has a known 1: setting that bit is enough
        i = c
    low = (1 << i) - 1
    return (w & ~((low << 1) | 1)) | (1 << i) | (v & low)


def subreg(a: Tnum) -> Tnum:
    """The low 32 bits (upper half known zero)."""
    return _new(Tnum, (a.value & M32, a.mask & M32))


def clear_subreg(a: Tnum) -> Tnum:
    """The upper 32 bits (lower half known zero)."""
    return _new(Tnum, (a.value & _HI32, a.mask & _HI32))


def with_subreg(reg: Tnum, sub_: Tnum) -> Tnum:
    """``reg``'s upper half with ``sub_``'s lower half."""
    return _new(Tnum, ((reg.value & _HI32) | (sub_.value & M32), (reg.mask & _HI32) | (sub_.mask & M32)))


def const_subreg(a: Tnum, value: int) -> Tnum:
    """``a`` with its lower half replaced by the constant ``value``."""
    return _new(Tnum, ((a.value & _HI32) | (value & M32), a.mask & _HI32))


def is_const(a: Tnum) -> bool:
    return not a.mask


def subreg_is_const(a: Tnum) -> bool:
    return not (a.mask & M32)


def equals_const(a: Tnum, b: int) -> bool:
    return not a.mask and a.value == b


def is_unknown(a: Tnum) -> bool:
    return a.mask == M64


def _swab(x: int, nbytes: int) -> int:
    return int.from_bytes(x.to_bytes(nbytes, "little"), "big")


def bswap16(a: Tnum) -> Tnum:
    """Swap the two low bytes; the result's upper 48 bits are known zero."""
    return _new(Tnum, (_swab(a.value & 0xFFFF, 2), _swab(a.mask & 0xFFFF, 2)))


def bswap32(a: Tnum) -> Tnum:
    return _new(Tnum, (_swab(a.value & M32, 4), _swab(a.mask & M32, 4)))


def bswap64(a: Tnum) -> Tnum:
    return _new(Tnum, (_swab(a.value, 8), _swab(a.mask, 8)))


def strn(a: Tnum) -> str:
    """The kernel's ``(%#llx; %#llx)`` text, e.g. ``(0x0; 0xff)``."""
    return f"({a.value:#x}; {a.mask:#x})"


def sbin(a: Tnum) -> str:
    """64 characters, most significant bit first: ``0``, ``1`` or ``x``."""
    v, m = a.value, a.mask
    return "".join("x" if m >> i & 1 else ("1" if v >> i & 1 else "0") for i in _BITS_HIGH_FIRST)


_BITS_HIGH_FIRST = tuple(builtins.range(63, -1, -1))
