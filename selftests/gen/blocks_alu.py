"""Blocks that stress scalar tracking: ALU chains on unknowns followed by a memory access.

The model is Buzzer's "playground": a few registers get unknown values, a
random sequence of ALU operations (the operator list Agni verifies: add, sub,
mul, div, mod, and, or, xor, shifts, neg, plus movsx, byte swaps, signed
division, 32-bit forms) runs on them, and the result is used as an offset
into memory. Usually a guard bounds the result first; sometimes, when the
samples say the chain keeps the value in range, the access relies on the
verifier tracking the chain precisely.
"""
from __future__ import annotations

from pyverifier.opcodes import (
    BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_JSGT, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL,
    BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR,
)

from .context import Gen, Region

_IMMS = (1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 31, 32, 63, 64, 100, 127, 255, 256, 1023, 0xFFF, 0xFFFF,
         -1, -2, -8, -16, -256, 0x7FFFFFFF)
_BOUNDS = (1, 3, 7, 15, 31, 63, 127, 255, 1023, 4095, 0xFFFF)

_OPS = (
    ("add", 10), ("sub", 8), ("mul", 5), ("div", 3), ("mod", 3), ("or", 4), ("and", 7), ("xor", 4),
    ("lsh", 5), ("rsh", 6), ("arsh", 3), ("neg", 2), ("movsx", 3), ("end", 3), ("sdiv", 2),
    ("smod", 2), ("zext", 2),
)
_CODE = {"add": BPF_ADD, "sub": BPF_SUB, "mul": BPF_MUL, "div": BPF_DIV, "mod": BPF_MOD, "or": BPF_OR,
         "and": BPF_AND, "xor": BPF_XOR, "lsh": BPF_LSH, "rsh": BPF_RSH, "arsh": BPF_ARSH}


def alu_op(g: Gen, dst: int, others: list[int]) -> None:
    """One random ALU instruction on ``dst`` (operand: an immediate or one of ``others``)."""
    rng = g.rng
    op = rng.weighted(_OPS)
    is64 = rng.percent(65)
    if not is64:
        g.tag("alu32")
    g.tag("alu")
    src = rng.pick(others) if others and rng.percent(30) else -1
    width = 64 if is64 else 32
    if op == "neg":
        g.op_imm(BPF_NEG, dst, 0, is64)
    elif op == "zext":
        g.op_reg(BPF_MOV, dst, dst, False)
        g.tag("alu32")
    elif op == "movsx":
        bits = rng.pick((8, 16, 32) if is64 else (8, 16))
        g.op_reg(BPF_MOV, dst, src if src >= 0 else dst, is64, off=bits)
        g.tag("movsx")
    elif op == "end":
        kind = rng.pick(("le", "be", "bswap"))
        g.op_end(kind, rng.pick((16, 32, 64)), dst)
        g.tag("bswap")
    elif op in ("lsh", "rsh", "arsh"):
        if src >= 0:
            if rng.percent(70):  # shift by an unknown but bounded amount
                g.op_imm(BPF_AND, src, width - 1, is64)
            g.op_reg(_CODE[op], dst, src, is64)
            g.tag("shift_var")
        else:
            g.op_imm(_CODE[op], dst, rng.below(width), is64)
    elif op in ("div", "mod", "sdiv", "smod"):
        code = BPF_DIV if op in ("div", "sdiv") else BPF_MOD
        soff = 1 if op[0] == "s" else 0
        if soff:
            g.tag("sdiv")
        else:
            g.tag("div")
        if src >= 0:
            g.op_reg(code, dst, src, is64, soff)  # division by a register that may be 0 is defined
        else:
            imm = rng.pick(_IMMS)
            g.op_imm(code, dst, imm if (soff or imm > 0) else -imm, is64, soff)
    else:
        code = _CODE[op]
        if src >= 0:
            g.op_reg(code, dst, src, is64)
        else:
            g.op_imm(code, dst, rng.pick(_IMMS) if rng.percent(75) else rng.bits(rng.pick((4, 8, 16, 31))), is64)


def chain_access(g: Gen, t: int, rg: Region | None, avoid: list[int], size: int, trust_scale: int = 2,
                 claim: tuple[int, int] | None = None) -> None:
    """Access memory at the value of ``t``: set up a region (unless given), guard or trust, access.

    Without a guard the access *trusts* the verifier to know the value's range: the
    range the block ``claim``s by construction, else the samples' range. A block
    that placed its flaw passes the claim it would have had without the flaw: the
    access then trusts it with a region sized exactly to it.
    """
    rng = g.rng
    off = rng.pick((0, 0, 0, 1, 2, 4, 8)) if size == 1 else rng.pick((0, 0, size))
    if claim is not None:
        lo, hi = claim
        aligned = lo == hi == 0
    else:
        lo, hi = g.srange(t)
        aligned = None
    forced = claim is not None and g.flaw_here()

    def fits(align: int, room: int) -> bool:
        if lo < 0 or hi + off + size > room:
            return False
        if align == 1:
            return True
        if aligned is not None:
            return aligned and off % align == 0
        return all((v + off) % align == 0 for v in g.sv.get(t, ()))

    if rg is None:
        kinds = ["stack", "direct"] + (["pkt"] if g.p.pkt and not forced else [])
        kind = "direct" if forced else rng.pick(kinds)
        align = size if kind == "stack" else 1
        room = 128 if kind == "stack" else 256 if kind == "direct" else 0xFF00
        trust = forced or (fits(align, room) and g.frontier(trust_scale))
        need = max(0, hi) + off + size if trust else 8
        regs = g.pick(2, avoid=avoid + [t])
        if kind == "stack":
            sz = -(-max(need, 8) // 8) * 8 if trust else rng.pick((16, 32, 64, 128))
            rg = g.stack_region(regs[0], sz)
        elif kind == "direct":
            rg = g.direct_region(regs[0], need, exact=forced or (trust and rng.percent(50)))
        else:
            rg = g.pkt_region(regs[0], regs[1])
    else:
        align = size if rg.strict else 1
        trust = forced or (fits(align, rg.size if rg.kind != "pkt" else 0xFF00) and g.frontier(trust_scale))
    if rg.kind != "pkt" and rg.size < off + size:
        off, size, align = 0, 1, 1
    if trust:
        g.tag("precision")
    else:
        room = rg.size if rg.kind != "pkt" else rng.pick((64, 256, 1500))
        # overflowing a packet window or a stack area inside the frame is no error: no flaw there
        g.bound(t, max(0, room - size - off), align, allow_flaw=rg.tight)
    op = "load" if rng.percent(60) or not rg.writable else rng.pick(("store", "store_imm"))
    if op == "store":
        val = g.pick(1, avoid=[t, rg.base, rg.end, 6])[0]
        g.unknown(val)
        g.access(rg, t, size, off, op, val=val)
    else:
        dst = g.pick(1, avoid=[rg.end, 6])[0]
        g.access(rg, t, size, off, op, dst=dst)


def block_alu_chain(g: Gen, length: tuple[int, int] = (1, 6)) -> None:
    """Playground: unknowns, a random ALU chain, then a guarded (or trusted) access."""
    rng = g.rng
    rg = None
    keep: list[int] = []
    if rng.percent(25):
        base = g.pick(1, saved=True)[0]
        rg = g.lookup(base)
        keep = [base]
    n = rng.between(1, 3)
    vs = g.pick(n, avoid=keep)
    for v in vs:
        g.unknown(v)
        if rng.percent(80):
            g.bound(v, rng.pick(_BOUNDS), 1, allow_flaw=False,
                    style=rng.pick(("mask", "mask", "jgt", "zext32", "shift", "signed", "clamp")))
    for _ in range(rng.between(*length)):
        dst = vs[0] if rng.percent(70) else rng.pick(vs)
        alu_op(g, dst, [v for v in vs if v != dst])
    chain_access(g, vs[0], rg, keep + vs[1:], rng.pick((1, 1, 2, 4, 8)))


def block_long_chain(g: Gen) -> None:
    block_alu_chain(g, (12, 60))


def block_signed_window(g: Gen) -> None:
    """movsx into a signed value, a two-sided signed window, shifted to a non-negative offset."""
    rng = g.rng
    v = g.pick(1)[0]
    g.unknown(v)
    bits = rng.pick((8, 16, 32))
    is64 = bits == 32 or rng.percent(70)
    g.op_reg(BPF_MOV, v, v, is64, off=bits)
    g.tag("movsx", "branch")
    lo = rng.between(1, 60)
    hi = rng.between(0, 60)
    g.check_imm(v, BPF_JSGT, hi, not is64)
    flaw = g.want_flaw()
    if not flaw:  # the flaw: no lower bound, negative values reach the access
        g.check_imm(v, BPF_JSLT, -lo, not is64)
    if not is64:
        g.tag("jmp32", "alu32")
    g.op_imm(BPF_ADD, v, lo, is64)
    g.reseed(v, 0, lo + hi)
    chain_access(g, v, None, [], rng.pick((1, 2, 4, 8)), trust_scale=5, claim=(0, lo + hi))


def block_div_mod(g: Gen) -> None:
    """Unsigned and signed division/modulo of bounded values, then an access."""
    rng = g.rng
    v, d = g.pick(2)
    g.unknown(v)
    g.bound(v, rng.pick((63, 255, 1023, 4095)), 1, allow_flaw=False)
    op = rng.pick(("div", "mod", "sdiv", "smod"))
    if rng.percent(40):
        g.unknown(d)
        g.bound(d, rng.pick((7, 15, 63)), 1, allow_flaw=False)
        code = BPF_DIV if "div" in op else BPF_MOD
        g.op_reg(code, v, d, rng.percent(60), 1 if op[0] == "s" else 0)
    else:
        code = BPF_DIV if "div" in op else BPF_MOD
        imm = rng.pick((2, 3, 5, 7, 8, 10, 16, 100, -3, -7)) if op[0] == "s" else rng.pick((2, 3, 5, 8, 10, 16, 100))
        g.op_imm(code, v, imm, rng.percent(60), 1 if op[0] == "s" else 0)
    g.tag("alu", "sdiv" if op[0] == "s" else "div")
    chain_access(g, v, None, [d], rng.pick((1, 2, 4, 8)), trust_scale=3)


def block_bswap(g: Gen) -> None:
    """Byte-swap a value whose unknown bits sit in one byte, then use it as an offset."""
    rng = g.rng
    v = g.pick(1)[0]
    g.unknown(v)
    width = rng.pick((16, 32, 64))
    byte = rng.below(min(width // 8, 4))
    g.op_imm(BPF_AND, v, 0xFF << (8 * byte), byte < 3)  # byte 3: a 32-bit and, no sign extension
    g.op_end(rng.pick(("be", "bswap")), width, v)
    g.tag("bswap", "alu")
    if rng.percent(50):
        g.op_imm(BPF_RSH, v, rng.below(4))
    chain_access(g, v, None, [], rng.pick((1, 2, 4)), trust_scale=3)

