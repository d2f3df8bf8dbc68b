"""Property tests of pyverifier.tnum: every operation is sound (the result tnum
holds every concrete result of operands drawn from the input tnums), plus the
exact values the kernel's log shows for a few inputs."""
from __future__ import annotations

import builtins

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pyverifier import tnum as T
from pyverifier.tnum import M32, M64, Tnum

U64 = st.one_of(
    st.integers(0, M64),
    st.sampled_from([0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF_FFFF, 0x8000_0000, M32, 1 << 32, (1 << 63) - 1, 1 << 63, M64]),
)


@st.composite
def tnums(draw):
    """A well-formed tnum (value & mask == 0), biased to few unknown bits."""
    mask = draw(
        st.one_of(
            st.integers(0, M64),
            st.integers(0, 0xFF),
            st.integers(0, M32),
            st.sampled_from([0, M64, M32, M64 ^ M32, 0xF0, 0x8000_0000_0000_0000]),
        )
    )
    value = draw(U64) & ~mask & M64
    return Tnum(value, mask)


@st.composite
def member_of(draw, t):
    return t.value | (draw(st.integers(0, M64)) & t.mask)


@st.composite
def tnum_and_member(draw):
    t = draw(tnums())
    return t, draw(member_of(t))


def sx64(x):
    x &= M64
    return x - (1 << 64) if x >> 63 else x


def sx32(x):
    x &= M32
    return x - (1 << 32) if x >> 31 else x


def holds(t: Tnum, x: int) -> bool:
    assert t.value & t.mask == 0, f"malformed {t}"
    assert 0 <= t.value <= M64 and 0 <= t.mask <= M64
    return T.contains(t, x & M64)


@given(U64)
def test_const(x):
    t = T.const(x)
    assert T.is_const(t) and T.equals_const(t, x) and holds(t, x)


@given(U64, U64, st.data())
def test_range_holds_every_value_between(a, b, data):
    lo, hi = min(a, b), max(a, b)
    t = T.range(lo, hi)
    x = data.draw(st.integers(lo, hi))
    assert holds(t, lo) and holds(t, hi) and holds(t, x)


def test_range_examples():
    assert T.range(0, 255) == Tnum(0, 0xFF)
    assert T.range(5, 5) == T.const(5)
    assert T.range(16, 19) == Tnum(0x10, 0x3)
    assert T.range(0, M64) == T.UNKNOWN
    assert T.is_unknown(T.unknown)


@given(tnum_and_member(), tnum_and_member())
def test_add_sub_sound(a, b):
    (ta, x), (tb, y) = a, b
    assert holds(T.add(ta, tb), x + y)
    assert holds(T.sub(ta, tb), x - y)


@given(tnum_and_member())
def test_neg_sound(a):
    ta, x = a
    assert holds(T.neg(ta), -x)


@given(tnum_and_member(), tnum_and_member())
def test_bitwise_sound(a, b):
    (ta, x), (tb, y) = a, b
    assert holds(T.and_(ta, tb), x & y)
    assert holds(T.or_(ta, tb), x | y)
    assert holds(T.xor(ta, tb), x ^ y)


@given(tnum_and_member(), tnum_and_member())
def test_mul_sound(a, b):
    (ta, x), (tb, y) = a, b
    assert holds(T.mul(ta, tb), x * y)


def test_mul_of_constants_is_exact():
    assert T.mul(T.const(7), T.const(9)) == T.const(63)
    assert T.mul(T.const(M64), T.const(2)) == T.const(M64 - 1)


def _mul_reference(a, b):
    """Long multiplication written plainly: add ``b`` for a known 1 bit, union of "added" and "not
    added" for an unknown bit (the kernel's rule; pyverifier.tnum.mul adds exact shortcuts)."""
    acc = T.ZERO
    av, am = a
    bv, bm = b
    for _ in builtins.range(64):
        if av & 1:
            acc = T.add(acc, Tnum(bv, bm))
        elif am & 1:
            acc = T.union(acc, T.add(acc, Tnum(bv, bm)))
        av >>= 1
        am >>= 1
        bv = (bv << 1) & M64
        bm = (bm << 1) & M64
    return acc


@settings(max_examples=400)
@given(tnums(), tnums())
def test_mul_equals_plain_long_multiplication(a, b):
    assert T.mul(a, b) == _mul_reference(a, b)


def test_mul_unknown_bit_keeps_correlation():
    # x1 * 11: 0011 (x=0) or 1001 (x=1), whose union is x0x1, not the xxx1 of adding unknowns
    assert T.mul(Tnum(1, 2), T.const(3)) == Tnum(1, 0b1010)
    # what the live 6.18 kernel printed for (0xcbf29ce4 << 32 | u32) * 16777619: fully unknown
    assert T.mul(Tnum(0xCBF29CE4 << 32, M32), T.const(16777619)) == T.UNKNOWN
    assert T.mul(Tnum(0x10 << 32, 0xFF), T.const(16777619)) == Tnum(0x1000193000000000, 0xFF01FFFF)


@given(tnum_and_member(), st.integers(0, 63))
def test_shifts_sound(a, n):
    ta, x = a
    assert holds(T.lshift(ta, n), x << n)
    assert holds(T.rshift(ta, n), x >> n)
    assert holds(T.arshift(ta, n, 64), sx64(x) >> n)


@given(tnum_and_member(), st.integers(0, 31))
def test_arshift32_sound(a, n):
    ta, x = a
    t = T.arshift(ta, n, 32)
    assert t.value >> 32 == 0 and t.mask >> 32 == 0
    assert holds(t, (sx32(x) >> n) & M32)


@given(tnum_and_member(), tnum_and_member())
def test_intersect_and_union(a, b):
    (ta, x), (tb, y) = a, b
    # a value described by both stays described by their intersection
    if T.contains(tb, x):
        assert holds(T.intersect(ta, tb), x)
    u = T.union(ta, tb)
    assert holds(u, x) and holds(u, y)
    assert T.in_(u, ta) and T.in_(u, tb)


@given(tnum_and_member(), tnum_and_member())
def test_overlap(a, b):
    (ta, x), (tb, _) = a, b
    if T.contains(tb, x):
        assert T.overlap(ta, tb)
    if not T.overlap(ta, tb):
        assert not T.contains(tb, x)


@given(tnums(), tnums(), st.data())
def test_in(a, b, data):
    assert T.in_(a, a)
    assert T.in_(T.UNKNOWN, a)
    if T.in_(a, b):
        y = data.draw(member_of(b))
        assert T.contains(a, y)


@given(tnum_and_member(), st.sampled_from([1, 2, 4, 8]))
def test_cast_and_subregs(a, size):
    ta, x = a
    assert holds(T.cast(ta, size), x & ((1 << (size * 8)) - 1))
    assert holds(T.subreg(ta), x & M32)
    assert holds(T.clear_subreg(ta), x & (M64 ^ M32))
    assert T.with_subreg(ta, T.subreg(ta)) == ta
    assert holds(T.const_subreg(ta, 0x1234), (x & (M64 ^ M32)) | 0x1234)
    assert T.subreg_is_const(T.const_subreg(ta, 5))


@given(tnum_and_member())
def test_bswap_sound(a):
    ta, x = a
    assert holds(T.bswap16(ta), int.from_bytes((x & 0xFFFF).to_bytes(2, "little"), "big"))
    assert holds(T.bswap32(ta), int.from_bytes((x & M32).to_bytes(4, "little"), "big"))
    assert holds(T.bswap64(ta), int.from_bytes(x.to_bytes(8, "little"), "big"))


@st.composite
def small_tnums(draw):
    mask = draw(st.integers(0, 0x3FF))
    value = draw(st.integers(0, 0x3FF)) & ~mask
    return Tnum(value, mask)


@given(small_tnums(), st.integers(0, 0x400))
@settings(max_examples=300)
def test_step_is_next_member(t, z):
    members = sorted(t.value | (k & t.mask) for k in builtins.range(0x400) if (k & ~t.mask) == 0)
    tmax = t.value | t.mask
    got = T.step(t, z)
    if z >= tmax:
        assert got == tmax
    elif z < t.value:
        assert got == t.value
    else:
        assert got == min(m for m in members if m > z)


@given(tnums(), st.sampled_from([0, 1, 2, 4, 8]))
def test_is_aligned(t, size):
    if T.is_aligned(t, size) and size:
        assert (t.value | t.mask) % size == 0


def test_text():
    assert T.strn(Tnum(0, 0xFF)) == "(0x0; 0xff)"
    assert str(Tnum(0x10, 0x3)) == "(0x10; 0x3)"
    assert T.sbin(Tnum(5, 0x30)) == "0" * 58 + "xx0101"
    assert len(T.sbin(T.UNKNOWN)) == 64 and set(T.sbin(T.UNKNOWN)) == {"x"}


@given(tnums())
def test_only_wellformed_results(t):
    for r in (T.add(t, t), T.sub(t, t), T.mul(t, t), T.neg(t), T.and_(t, t), T.or_(t, t), T.xor(t, t)):
        assert r.value & r.mask == 0
        assert 0 <= r.value <= M64 and 0 <= r.mask <= M64
    assume(t.mask)
    assert not T.is_const(t)


# (high 32 bits, mask of the low 32 bits, multiplier): r0 = (hi << 32) | (random & mask); r0 *= k
_MUL_PROBES = [(0xCBF29CE4, M32, 16777619), (1, M32, 3), (1, 0xFF, 3), (0xCBF29CE4, 0xFF, 3),
               (0x10, 0xFF, 16777619), (0, M32, 16777619), (0x7, 0xF0F, 0x12345), (0xFFFF0000, 0xFFFF, 0x101)]


@pytest.mark.bpf
@pytest.mark.parametrize("hi,lowmask,k", _MUL_PROBES)
def test_mul_matches_live_kernel(hi, lowmask, k):
    import re

    from kernel_loader import load
    from pyverifier.insn import Insn, encode
    from pyverifier.program import Program

    def s32(x):
        return x - (1 << 32) if x >> 31 else x

    insns = [Insn(0x85, 0, 0, 0, 7),  # call bpf_get_prandom_u32
             Insn(0x57, 0, 0, 0, s32(lowmask)) if lowmask != M32 else Insn(0xBC, 0, 0, 0, 0),  # r0 &= mask / w0 = w0
             Insn(0x18, 1, 0, 0, 0), Insn(0, 0, 0, 0, s32(hi)),  # r1 = hi << 32
             Insn(0x4F, 0, 1, 0, 0),  # r0 |= r1
             Insn(0x27, 0, 0, 0, k),  # r0 *= k
             Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
    res = load(Program(id="tests/tnum_mul", source="tests", name="tnum_mul", prog_type=1, insns=encode(insns)),
               log_level=2)
    assert res.verdict == "accept", res.message
    line = next(ln for ln in res.log.splitlines() if ln.startswith("5: (27)"))
    r0 = line.split("R0=", 1)[1]
    m = re.search(r"var_off=\((0x[0-9a-f]+); (0x[0-9a-f]+)\)", r0)
    kernel = Tnum(int(m.group(1), 16), int(m.group(2), 16)) if m else T.UNKNOWN
    assert m or r0.startswith("scalar("), r0
    assert T.mul(Tnum(hi << 32, lowmask), T.const(k)) == kernel, line
