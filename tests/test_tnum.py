"""Property tests of pyverifier.tnum: every operation is sound (the result tnum
holds every concrete result of operands drawn from the input tnums), plus the
exact values the kernel's log shows for a few inputs."""
from __future__ import annotations

import builtins

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
