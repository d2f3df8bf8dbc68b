"""Blocks about memory: scaled indices, pointer arithmetic, packet parsing, spills and fills, atomics."""
from __future__ import annotations

from pyverifier.opcodes import (
    BPF_ADD, BPF_AND, BPF_CMPXCHG, BPF_FETCH, BPF_JLT, BPF_JNE, BPF_LOAD_ACQ, BPF_LSH, BPF_MUL,
    BPF_OR, BPF_STORE_REL, BPF_SUB, BPF_XCHG, BPF_XOR,
)

from .blocks_alu import chain_access
from .context import Gen, NoRoom, Region
from .semantics import signed

_LOG2 = {1: 0, 2: 1, 4: 2, 8: 3}


def block_scaled_index(g: Gen) -> None:
    """An index bounded to the number of elements, scaled by the element size: array[i]."""
    rng = g.rng
    base = g.pick(1, saved=True)[0]
    end = g.pick(1, avoid=[base], saved=True)[0] if g.p.pkt else -1
    rg = g.region(base, end)
    elem = rng.pick((1, 2, 4, 8))
    n = (rg.size if rg.kind != "pkt" else rng.pick((4, 8, 16, 64))) // elem
    if n < 1:
        raise NoRoom("region too small")
    i = g.pick(1, avoid=[base, end])[0]
    g.unknown(i)
    g.bound(i, n - 1, 1, allow_flaw=rg.tight)
    if rng.percent(70):
        g.op_imm(BPF_LSH, i, _LOG2[elem])
    else:
        g.op_imm(BPF_MUL, i, elem)
    g.tag("alu")
    if rng.percent(60) or not rg.writable:
        g.access(rg, i, elem, 0, "load", dst=g.pick(1, avoid=[rg.end, 6])[0])
    else:
        g.access(rg, i, elem, 0, "store_imm")


def block_ptr_arith(g: Gen) -> None:
    """Buzzer's pointer arithmetic: a base pointer moved by constants and bounded unknowns, then used."""
    rng, b = g.rng, g.b
    base = g.pick(1, saved=True)[0]
    rg = g.region(base, -1, kinds=("map", "direct", "stack"))
    size = 1 if rg.strict and rng.percent(60) else rng.pick((1, 2, 4, 8))
    align = size if rg.strict else 1
    room = rg.size - size
    if room < 0:
        raise NoRoom("region too small")
    p = g.pick(1, avoid=[base])[0]
    b.mov(p, base)
    steps = rng.between(2, 5)
    # subtracting an unknown leaves the pointer's variable part possibly negative, which the
    # kernel tracks as an unbounded unsigned range: a precision limit, so only now and then
    may_sub = rg.kind != "stack" and g.frontier(1)
    sub_bound = 0
    plan = []
    budget = room
    for _ in range(steps):
        kind = rng.weighted((("add_var", 4), ("sub_var", 2 if may_sub else 0), ("add_const", 3)))
        bnd = min(budget, rng.pick((1, 3, 7, 15, 31, 63)))
        bnd &= -align
        if bnd <= 0:
            continue
        plan.append((kind, bnd, rng.below(bnd + 1) & -align if kind == "add_const" else 0))
        budget -= bnd
        if kind == "sub_var":
            sub_bound += bnd
            g.tag("precision")
    if not plan:
        raise NoRoom("region too small")
    lead = sub_bound
    if g.want_flaw():  # the flaw: the lowest offset ends one element below the base
        lead -= sum(c for _, _, c in plan) + align
    if lead:
        b.alu_imm(BPF_ADD, p, lead)
    offsets = [lead] * g.n_samples()
    others = [base, p]
    for kind, bnd, c in plan:
        if kind == "add_const":
            b.alu_imm(BPF_ADD, p, c)
            offsets = [o + c for o in offsets]
            continue
        v = g.pick(1, avoid=others)[0]
        g.unknown(v)
        g.bound(v, bnd, align, allow_flaw=False)
        b.alu_reg(BPF_ADD if kind == "add_var" else BPF_SUB, p, v)
        sign = 1 if kind == "add_var" else -1
        offsets = [o + sign * signed(x) for o, x in zip(offsets, g.sv.get(v, [0] * len(offsets)))]
        g.sv.pop(v, None)
    g.tag("ptr_arith", "memory")
    if max(offsets) + size > rg.size:
        raise NoRoom("plan overflows the region")
    if rng.percent(60) or not rg.writable:
        b.ldx(size, p, p, 0)
    else:
        b.st(size, p, 0, rng.bits(8))


def block_pkt_parse(g: Gen) -> None:
    """Ethernet, IPv4 with a variable header length, then a transport-header read."""
    if not g.p.pkt:
        raise NoRoom("no direct packet access")
    rng, b = g.rng, g.b
    data, end, ip, t = g.pick(4)
    g.pkt_region(data, end)
    g.pkt_check(Region("pkt", data, 14, False, True, end), data, 14)
    b.ldx(2, t, data, 12)
    proto = rng.pick((0x0008, 0x0008, 0xDD86, 0x0081))
    b.jmp_imm(BPF_JNE, t, proto, g.skip)
    b.mov(ip, data)
    b.alu_imm(BPF_ADD, ip, 14)
    g.pkt_check(Region("pkt", ip, 20, False, True, end), ip, 20)
    b.ldx(1, t, ip, 0)
    g.sv[t] = g.samples("u8")
    g.op_imm(BPF_AND, t, 0xF)
    g.op_imm(BPF_LSH, t, 2)
    if rng.percent(50):
        g.check_imm(t, BPF_JLT, 20, False)
    g.tag("packet", "branch", "alu")
    l4 = Region("pkt", ip, 0, False, True, end)
    size = rng.pick((1, 2, 4))
    off = rng.pick((0, 2, 4)) if size < 4 else 0
    if rng.percent(50):
        g.access(l4, t, size, off, "load", dst=t)
    else:
        g.access(l4, t, size, off, "store_imm")


def block_spill_fill(g: Gen) -> None:
    """A bounded scalar through the stack: 64/32-bit spills, narrower fills, fills via other pointers."""
    rng, b = g.rng, g.b
    v, w = g.pick(2)
    g.unknown(v)
    hi = rng.pick((7, 15, 31, 63, 127, 255))
    g.bound(v, hi, 1, allow_flaw=False)
    variant = rng.weighted((("s64f64", 4), ("s32f32", 3), ("s64f32", 2), ("s64f16", 1), ("s32f64", 2),
                            ("odd32", 1), ("via_ptr", 2), ("linked", 2)))
    slot = g.alloc(8)
    g.tag("spill")
    if variant in ("s32f64",):
        b.st(8, 10, slot, 0)
    if variant == "via_ptr":
        p = g.pick(1, avoid=[v, w])[0]
        b.mov(p, 10)
        b.alu_imm(BPF_ADD, p, slot + 8)
        b.stx(8, p, v, -8)
        b.ldx(8, w, p, -8)
        g.tag("ptr_spill")
    elif variant == "odd32":
        b.stx(4, 10, v, slot + 4)
        b.ldx(4, w, 10, slot + 4)
        g.tag("spill32")
    else:
        ssize = 4 if variant.startswith("s32") else 8
        b.stx(ssize, 10, v, slot)
        spilled = list(g.sv[v])
        if rng.percent(50):
            g.set_const(v, rng.bits(8))  # the register is overwritten; only the stack holds the bound
        fsize = {"f64": 8, "f32": 4, "f16": 2}.get(variant[-3:], 8)
        b.ldx(fsize, w, 10, slot)
        if ssize == 4 or fsize < 8:
            g.tag("spill32")
    if variant == "linked":
        # w and the spilled value share an id: bounding the fill bounds the slot's copy too
        g.sv[w] = spilled
        g.bound(w, hi // 2, 1, allow_flaw=False, style="jgt")
        b.ldx(8, v, 10, slot)
        g.reseed(v, 0, hi // 2)
        t = v
        g.tag("linked")
    else:
        g.reseed(w, 0, hi)  # every variant stores and reloads the whole (small) value
        t = w
    chain_access(g, t, None, [], rng.pick((1, 2, 4, 8)), trust_scale=6,
                 claim=(0, hi // 2) if variant == "linked" else (0, hi))


def block_ptr_spill(g: Gen) -> None:
    """Pointers through the stack: spill a map value, packet or context pointer, fill it, use it."""
    rng, b = g.rng, g.b
    base, q = g.pick(2, saved=True)
    end = g.pick(1, avoid=[base, q], saved=True)[0] if g.p.pkt else -1
    rg = g.region(base, end)
    slot = g.alloc(8)
    which = rng.pick(("region", "ctx"))
    src = base if which == "region" else 6
    b.stx(8, 10, src, slot)
    b.ldx(8, q, 10, slot)
    g.tag("spill", "ptr_spill")
    if which == "ctx":
        b.ldx(g.p.ctx_field_size, q, q, rng.pick(g.p.ctx_fields))
        g.tag("ctx")
        return
    filled = Region(rg.kind, q, rg.size, rg.strict, rg.writable, rg.end, rg.tight)
    i = g.pick(1, avoid=[base, q, end])[0]
    g.unknown(i)
    size = rng.pick((1, 2, 4, 8))
    chain_access(g, i, filled, [base, q, end], size)


_ATOMIC_OPS = (BPF_ADD, BPF_OR, BPF_AND, BPF_XOR)


def block_atomic(g: Gen) -> None:
    """Atomic operations on a stack slot or a map value, the fetched value then used as an index."""
    rng, b = g.rng, g.b
    base = g.pick(1, saved=True)[0]
    rg = g.region(base, -1, kinds=("map", "direct", "stack"))
    size = rng.pick((4, 8)) if rg.size >= 8 else 4
    if rg.size < size:
        raise NoRoom("region too small")
    kind = rng.weighted((("plain", 3), ("fetch", 3), ("xchg", 2), ("cmpxchg", 2), ("acq_rel", 2)))
    n = rg.size // size
    p = g.pick(1, avoid=[base, 0])[0]
    b.mov(p, base)
    if n > 1 and rg.kind != "stack" and rng.percent(60):  # the stack takes atomics at constant offsets only
        i = g.pick(1, avoid=[base, p, 0])[0]
        g.unknown(i)
        g.bound(i, (n - 1) * size, size)
        b.alu_reg(BPF_ADD, p, i)
        g.tag("ptr_arith")
    else:
        p_off = rng.below(n) * size
        b.alu_imm(BPF_ADD, p, p_off)
    s = g.pick(1, avoid=[base, p, 0])[0]
    g.unknown(s)
    g.tag("atomic", "memory")
    if kind in ("plain", "fetch"):
        op = rng.pick(_ATOMIC_OPS)
        b.atomic(size, p, s, 0, op | (BPF_FETCH if kind == "fetch" else 0))
    elif kind == "xchg":
        b.atomic(size, p, s, 0, BPF_XCHG)
    elif kind == "cmpxchg":
        b.mov_imm(0, rng.bits(4))
        b.atomic(size, p, s, 0, BPF_CMPXCHG)
        s = 0
    else:
        asz = rng.pick(tuple(z for z in (1, 2, 4, 8) if z <= size))  # the offset is aligned to size
        if rng.percent(50):
            b.atomic(asz, p, s, 0, BPF_STORE_REL)
            b.ldx(asz, s, p, 0)
        else:
            b.atomic(asz, s, p, 0, BPF_LOAD_ACQ)
        g.tag("load_acquire")
        size = asz
    if kind != "plain":
        g.sv[s] = g.samples(f"u{size * 8}")
        chain_access(g, s, None, [base, p], rng.pick((1, 2, 4, 8)))

