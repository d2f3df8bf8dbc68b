"""Concrete BPF ALU semantics on 64-bit register values (Python ints in [0, 2**64)).

The generator follows a handful of sample values through every ALU chain it
emits, so that it knows (approximately) the range a computed offset really
takes and can size the memory it is used on. This is the run-time meaning of
the instructions, not the verifier's abstraction of it.
"""
from __future__ import annotations

from pyverifier.opcodes import (
    BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL,
    BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_XOR,
)

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def signed(x: int, bits: int = 64) -> int:
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def sext(x: int, from_bits: int, to_bits: int = 64) -> int:
    """Sign-extend the low ``from_bits`` of ``x`` to ``to_bits`` (result unsigned)."""
    return signed(x, from_bits) & ((1 << to_bits) - 1)


def _tdiv(a: int, b: int) -> int:
    """C division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _bswap(x: int, bits: int) -> int:
    return int.from_bytes((x & ((1 << bits) - 1)).to_bytes(bits // 8, "little"), "big")


def alu(op: int, is64: bool, dst: int, src: int, off: int = 0) -> int:
    """The value of ``dst`` after ``dst OP= src`` (``src`` already the operand's value).

    For an immediate operand pass ``src = imm & M64`` (sign-extended) for 64-bit
    operations; for 32-bit ones only the low 32 bits are used either way.
    ``off`` selects signed division/modulo (1) and sign-extending moves (8/16/32).
    """
    bits = 64 if is64 else 32
    mask = M64 if is64 else M32
    a, b = dst & mask, src & mask
    if op == BPF_ADD:
        r = a + b
    elif op == BPF_SUB:
        r = a - b
    elif op == BPF_MUL:
        r = a * b
    elif op == BPF_DIV:
        if b == 0:
            r = 0
        elif off == 1:
            r = _tdiv(signed(a, bits), signed(b, bits))
        else:
            r = a // b
    elif op == BPF_MOD:
        if b == 0:
            r = a
        elif off == 1:
            sa, sb = signed(a, bits), signed(b, bits)
            r = sa - _tdiv(sa, sb) * sb
        else:
            r = a % b
    elif op == BPF_OR:
        r = a | b
    elif op == BPF_AND:
        r = a & b
    elif op == BPF_XOR:
        r = a ^ b
    elif op == BPF_LSH:
        r = a << (b & (bits - 1))
    elif op == BPF_RSH:
        r = a >> (b & (bits - 1))
    elif op == BPF_ARSH:
        r = signed(a, bits) >> (b & (bits - 1))
    elif op == BPF_NEG:
        r = -a
    elif op == BPF_MOV:
        r = sext(src, off, bits) if off else b
    else:
        raise ValueError(f"no concrete semantics for ALU op {op:#x}")
    return r & mask


def end(kind: str, width: int, dst: int) -> int:
    """Byte swaps: ``le``/``be`` (ALU|END, little-endian host) and ``bswap`` (ALU64|END)."""
    if kind == "le":
        return dst & ((1 << width) - 1)
    return _bswap(dst, width)


ALU_BINARY = (BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH,
              BPF_MOD, BPF_XOR, BPF_ARSH)
__all__ = ["alu", "end", "signed", "sext", "M64", "M32", "ALU_BINARY", "BPF_END"]
