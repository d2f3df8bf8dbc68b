"""Blocks about control flow: correlated and linked registers, dead branches, diamonds, loops, calls."""
from __future__ import annotations

from collections.abc import Callable

from pyverifier.opcodes import (
    BPF_ADD, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSET, BPF_JSGE,
    BPF_JSGT, BPF_JSLE, BPF_LSH, BPF_MOV, BPF_MUL, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR,
)

from .blocks_alu import chain_access
from .context import Gen, NoRoom
from .semantics import M64


def block_correlated(g: Gen) -> None:
    """Branches on two registers, then an offset derived from the relation (e.g. r1 > r2, use r1 - r2)."""
    rng = g.rng
    a, c = g.pick(2)
    variant = rng.weighted((("diff", 4), ("derive", 4), ("derive_signed", 1), ("eq", 2), ("limit", 3)))
    n = rng.pick((7, 15, 31, 63, 127, 255))
    g.unknown(a)
    g.bound(a, n, 1, allow_flaw=False, style=rng.pick(("mask", "jgt", "zext32")))
    g.unknown(c)
    g.tag("branch", "correlated")
    is32 = rng.percent(20)
    if is32:
        g.tag("jmp32")
    if variant == "diff":
        g.bound(c, n, 1, allow_flaw=False, style=rng.pick(("mask", "jgt")))
        if rng.percent(50):
            g.check_reg(a, BPF_JLE, c, is32)  # fall through: a > c
        else:
            g.check_reg(c, BPF_JGE, a, is32)
        g.op_reg(BPF_SUB, a, c, not is32 or rng.percent(50))
        t = a
        # a > c holds, so a - c is in [1, n]; the verifier does not relate the two registers
        g.reseed(t, 1, n)
        claim: tuple[int, int] | None = (1, n)
        if not g.frontier(1):
            g.bound(t, n, 1)
            claim = None
    elif variant in ("derive", "derive_signed"):
        if variant == "derive_signed" and not (g.srange(c)[0] < 0 and g.want_flaw()):
            variant = "derive"  # a signed check lets negative values of c through: only as the flaw
        op = BPF_JSGE if variant == "derive_signed" else BPF_JGE
        if rng.percent(50):
            g.check_reg(c, op, a, is32)  # fall through: c < a <= n
        else:
            g.check_reg(a, BPF_JSLE if variant == "derive_signed" else BPF_JLE, c, is32)
        if is32:
            g.op_reg(BPF_MOV, c, c, False)
        t = c
        g.reseed(t, 0, n - 1)
        claim = (0, n - 1)
    elif variant == "eq":
        g.check_reg(a, BPF_JNE, c, is32)  # fall through: c == a
        if is32:
            g.op_reg(BPF_MOV, c, c, False)
        t = c
        g.reseed(t, 0, n)
        claim = (0, n)
    else:
        g.bound(c, n, 1, allow_flaw=False)
        k = rng.between(1, 8)
        g.op_imm(BPF_ADD, c, k)
        g.unknown(a)
        g.check_reg(a, BPF_JGT, c, is32)  # fall through: a <= c <= n + k
        if is32:
            g.op_reg(BPF_MOV, a, a, False)
        t = a
        g.reseed(t, 0, n + k)
        claim = (0, n + k)
    chain_access(g, t, None, [a, c], rng.pick((1, 2, 4, 8)), trust_scale=100, claim=claim)


def block_linked(g: Gen) -> None:
    """A copy (maybe plus a constant) is bounded; the original is used: linked scalar ids."""
    rng = g.rng
    x, y = g.pick(2)
    g.unknown(x)
    is64 = rng.percent(75)
    if not is64:
        g.op_reg(BPF_MOV, x, x, False)  # x fits in 32 bits, so the 32-bit copy is the whole value
    g.op_reg(BPF_MOV, y, x, is64)
    c = rng.pick((0, 0, 1, 4, 8, 16, 100)) if rng.percent(60) else 0
    if c:
        g.op_imm(BPF_ADD, y, c, is64)
    lim = rng.pick((7, 15, 63, 255))
    may_be_negative = g.srange(x)[0] < 0
    g.check_imm(y, BPF_JGT, lim + c, not is64)
    # the flaw (no lower check) only where x can really be negative
    if c and not (is64 and may_be_negative and g.want_flaw()):
        g.check_imm(y, BPF_JLT, c, not is64)
        g.reseed(x, 0, lim)
    elif c:
        g.reseed(x, -c, lim)  # the flaw: no lower check, x may be below zero
    else:
        g.reseed(x, 0, lim)
    g.tag("linked", "branch")
    if not is64:
        g.tag("alu32", "jmp32")
    chain_access(g, x, None, [y], rng.pick((1, 2, 4, 8)), trust_scale=100, claim=(0, lim))


def block_dead_branch(g: Gen) -> None:
    """A branch the bounds make impossible guards invalid code: only path-sensitive bounds accept it."""
    rng, b = g.rng, g.b
    v = g.pick(1)[0]
    g.unknown(v)
    m = rng.pick((3, 7, 15, 31, 255))
    g.op_imm(BPF_AND, v, m)
    g.reseed(v, 0, m, mask=m)
    hi = m  # a sound upper bound of v, followed through the operations
    for _ in range(rng.between(0, 3)):
        op = rng.pick(("add", "mul", "or", "lsh", "rsh", "xor"))
        c = rng.between(1, 7) if op in ("lsh", "rsh") else rng.between(1, 40)
        code = {"add": BPF_ADD, "mul": BPF_MUL, "or": BPF_OR, "lsh": BPF_LSH, "rsh": BPF_RSH,
                "xor": BPF_XOR}[op]
        g.op_imm(code, v, c)
        if op == "add":
            hi += c
        elif op == "mul":
            hi *= c
        elif op in ("or", "xor"):
            hi = (1 << max(hi.bit_length(), c.bit_length())) - 1
        elif op == "lsh":
            hi <<= c
        else:
            hi >>= c
    bad = b.new_label("dead")
    form = rng.below(4)
    if form == 0:
        b.jmp_imm(BPF_JGT, v, hi, bad)
    elif form == 1:
        b.jmp_imm(BPF_JGE, v, hi + 1, bad, rng.percent(40))
    elif form == 2:
        b.jmp_imm(BPF_JSGT, v, hi, bad)
    else:
        b.jmp_imm(BPF_JSET, v, 1 << hi.bit_length(), bad)  # a bit above every possible value
    g.tag("branch", "dead_branch")
    chain_access(g, v, None, [], rng.pick((1, 2, 4)), trust_scale=3, claim=(0, hi))
    b.goto(g.skip)
    b.label(bad)
    if rng.percent(50):
        b.ldx(8, 0, 10, 8)  # above the frame
    else:
        rg = g.direct_region(g.pick(1)[0])
        b.ldx(8, 0, rg.base, rg.size)  # just past the map value


def block_diamonds(g: Gen, most: int = 5) -> None:
    """A ladder of if/else diamonds adding different constants: the offset's value depends on the path."""
    rng, b = g.rng, g.b
    t, v = g.pick(2)
    g.unknown(t)
    k = rng.between(2, most)
    g.set_const(v, 0)
    ns = g.n_samples()
    picks = [[rng.below(2) for _ in range(k)] for _ in range(ns)]
    total = [0] * ns
    lo_sum = hi_sum = 0
    for step in range(k):
        x, y = rng.below(9), rng.below(9)
        other, join = b.new_label("else"), b.new_label("join")
        op = rng.pick((BPF_JSET, BPF_JGT, BPF_JLT, BPF_JEQ, BPF_JSGT))
        imm = 1 << rng.below(31) if op == BPF_JSET else rng.bits(rng.pick((4, 8, 16)))
        b.jmp_imm(op, t, imm, other, rng.percent(30))
        b.alu_imm(BPF_ADD, v, x)
        b.goto(join)
        b.label(other)
        b.alu_imm(BPF_ADD, v, y)
        b.label(join)
        for i in range(ns):
            total[i] += y if picks[i][step] else x
        lo_sum += min(x, y)
        hi_sum += max(x, y)
    total[0], total[1] = lo_sum, hi_sum  # the extremes must be among the samples
    g.sv[v] = [s & M64 for s in total]
    g.tag("branch")
    chain_access(g, v, None, [t], rng.pick((1, 2, 4, 8)), trust_scale=5, claim=(lo_sum, hi_sum))


def block_loop(g: Gen, most: int = 16) -> None:
    """A bounded loop walking a region with its counter (constant, unknown or may_goto bound)."""
    rng, b = g.rng, g.b
    base = g.pick(1, saved=True)[0]
    rg = g.region(base, -1, kinds=("map", "direct", "stack"))
    size = rng.pick((1, 2, 4, 8))
    n = min(rng.between(2, most), rg.size // size)
    if n < 1:
        raise NoRoom("region too small")
    i, p, acc = g.pick(3, avoid=[base])
    variant = rng.weighted((("count", 4), ("unknown", 2), ("may_goto", 2), ("down", 2)))
    flaw = rg.tight and rg.size // size <= most and g.want_flaw()
    if flaw:
        n = rg.size // size  # one more step than the region holds
    top, out = b.new_label("loop"), b.new_label("out")
    g.set_const(acc, 0)
    if variant == "unknown":
        lim = g.pick(1, avoid=[base, i, p, acc])[0]
        g.unknown(lim)
        # i < lim <= mask: the mask keeps i below n, or (the flaw) lets it reach n
        g.op_imm(BPF_AND, lim, (1 << (n.bit_length() - 1)) - 1 if not flaw else (1 << (n + 1).bit_length()) - 1)
        g.set_const(i, 0)
        b.label(top)
        b.jmp_reg(BPF_JGE, i, lim, out)
    elif variant == "down":
        g.set_const(i, n - 1 + (1 if flaw else 0))
        b.label(top)
    else:
        g.set_const(i, 0)
        b.label(top)
        if variant == "may_goto":
            b.may_goto(out)
            b.jmp_imm(BPF_JGE, i, n + (1 if flaw else 0), out)
            g.tag("may_goto")
    b.mov(p, i)
    shift = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    if shift:
        b.alu_imm(BPF_LSH, p, shift)
    b.alu_reg(BPF_ADD, p, base)
    if rng.percent(60) or not rg.writable:
        b.ldx(size, p, p, 0)
        b.alu_reg(rng.pick((BPF_ADD, BPF_XOR, BPF_OR)), acc, p)
    else:
        b.stx(size, p, acc, 0)
        b.alu_imm(BPF_ADD, acc, rng.between(1, 9))
    if variant == "down":
        b.alu_imm(BPF_ADD, i, -1)
        b.jmp_imm(BPF_JSGE, i, 0, top)
    else:
        b.alu_imm(BPF_ADD, i, 1)
        if variant == "count":
            b.jmp_imm(BPF_JLT, i, n + (1 if flaw else 0), top, rng.percent(25))
        else:
            b.goto(top)
    b.label(out)
    g.tag("loop", "branch", "memory")
    g.sv.clear()
    g.sv[acc] = g.samples("u64")


def block_long_loop(g: Gen) -> None:
    block_loop(g, 64)


# --- bpf-to-bpf calls --------------------------------------------------------------------------
def _sub_clamp(lim: int, flaw: bool) -> Callable[[Gen], None]:
    def emit(g: Gen) -> None:
        b, rng = g.b, g.rng
        out = b.new_label("sret")
        b.mov(0, 1)
        if rng.percent(50):
            m = (1 << ((lim + 1).bit_length() - 1)) - 1  # largest 2^k-1 <= lim
            b.alu_imm(BPF_AND, 0, m * 2 + 1 if flaw else m)
        else:
            b.jmp_imm(BPF_JLE, 0, lim + (1 if flaw else 0), out)
            b.mov_imm(0, rng.below(lim + 1))
        b.label(out)
        b.exit()
    return emit


def _sub_mem(size: int, room: int, flaw: bool) -> Callable[[Gen], None]:
    def emit(g: Gen) -> None:
        b, rng = g.b, g.rng
        out = b.new_label("sret")
        b.mov_imm(0, 0)
        b.jmp_imm(BPF_JGT, 2, room + (size if flaw else 0), out)
        if size > 1:
            b.alu_imm(BPF_AND, 2, -size)
        b.alu_reg(BPF_ADD, 1, 2)
        if rng.percent(60):
            b.ldx(size, 0, 1, 0)
        else:
            b.stx(size, 1, 3, 0)
        b.label(out)
        b.exit()
    return emit


def _sub_nullable(vsize: int) -> Callable[[Gen], None]:
    def emit(g: Gen) -> None:
        b, rng = g.b, g.rng
        out = b.new_label("sret")
        b.mov_imm(0, 0)
        b.jmp_imm(BPF_JEQ, 1, 0, out)
        size = rng.pick((1, 2, 4, 8))
        b.ldx(size, 0, 1, rng.below(max(1, vsize - size + 1)))
        b.label(out)
        b.exit()
    return emit


def _sub_outparam(lim: int) -> Callable[[Gen], None]:
    def emit(g: Gen) -> None:
        b = g.b
        b.mov(0, 2)
        b.alu_imm(BPF_AND, 0, lim)
        b.stx(8, 1, 0, 0)
        b.mov_imm(0, 0)
        b.exit()
    return emit


def _sub_nested(inner: str, lim: int) -> Callable[[Gen], None]:
    def emit(g: Gen) -> None:
        b = g.b
        b.alu_imm(BPF_AND, 1, lim)
        b.stx(8, 10, 1, -8)
        b.call_sub(inner)
        b.ldx(8, 1, 10, -8)
        b.alu_reg(BPF_ADD, 0, 1)
        b.exit()
    return emit


def _sub_double(g: Gen) -> None:
    b = g.b
    b.mov(0, 1)
    b.alu_imm(BPF_LSH, 0, 1)
    b.exit()


def block_subprog(g: Gen) -> None:
    """bpf-to-bpf calls: bounds of a return value, pointers to the caller's stack and map values."""
    if g.use_ld_abs:
        raise NoRoom("ld_abs programs cannot have subprograms")
    rng, b = g.rng, g.b
    variant = rng.weighted((("clamp", 4), ("mem", 3), ("nullable", 2), ("outparam", 2), ("nested", 2)))
    label = b.new_label("sub")
    g.tag("subprog")
    if variant == "clamp":
        lim = rng.pick((7, 15, 31, 63))
        g.subprogs.append((label, _sub_clamp(lim, g.want_flaw())))
        g.unknown(1)
        b.call_sub(label)
        g.sv = {0: g.samples((0, lim))}
        chain_access(g, 0, None, [], rng.pick((1, 2, 4, 8)), trust_scale=100, claim=(0, lim))
    elif variant == "mem":
        size = rng.pick((1, 2, 4, 8))
        rg = g.stack_region(1, rng.pick((16, 32, 64)))
        g.unknown(2)
        g.unknown(3)
        g.subprogs.append((label, _sub_mem(size, rg.size - size, g.want_flaw())))
        b.call_sub(label)
        g.tag("stack", "memory")
    elif variant == "nullable":
        base = g.pick(1, saved=True)[0]
        rg = g.lookup(base, null_check=False)
        b.mov(1, base)
        g.subprogs.append((label, _sub_nullable(rg.size)))
        b.call_sub(label)
        g.tag("memory")
    elif variant == "outparam":
        lim = rng.pick((7, 15, 31, 63))
        slot = g.alloc(8)
        b.st(8, 10, slot, 0)
        b.mov(1, 10)
        b.alu_imm(BPF_ADD, 1, slot)
        g.unknown(2)
        g.subprogs.append((label, _sub_outparam(lim)))
        b.call_sub(label)
        v = g.pick(1)[0]
        b.ldx(8, v, 10, slot)
        g.sv = {v: g.samples((0, lim))}
        g.tag("spill")
        chain_access(g, v, None, [], rng.pick((1, 2, 4, 8)), trust_scale=100, claim=(0, lim))
    else:
        lim = rng.pick((7, 15, 31))
        inner = b.new_label("sub")
        g.subprogs.append((label, _sub_nested(inner, lim)))
        g.subprogs.append((inner, _sub_double))
        g.unknown(1)
        b.call_sub(label)
        g.sv = {0: g.samples((0, 3 * lim))}
        chain_access(g, 0, None, [], rng.pick((1, 2, 4, 8)), trust_scale=100, claim=(0, 3 * lim))

