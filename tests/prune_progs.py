"""Seeded random programs for the pruning/precision tests: branches, spills, bounded loops.

Every program is valid for a privileged socket filter: scalars come from context loads
(``len``, ``pkt_type``, ``mark``), the stack slots used by fills are initialised first,
forward jumps skip short runs of instructions and loops count a dedicated register.
"""
from __future__ import annotations

import random

from pyverifier.insn import Insn, encode
from pyverifier.program import Program

ALU64_K, ALU64_X = 0x07, 0x0F
ALU32_K = 0x04
ADD, SUB, OR, AND, RSH, LSH, XOR, MOV = 0x00, 0x10, 0x40, 0x50, 0x70, 0x60, 0xA0, 0xB0
JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0]
VAL_REGS = [0, 7, 8, 9]
SLOTS = [-8, -16, -24]


def _alu(rng):
    d = rng.choice(VAL_REGS)
    r = rng.random()
    if r < 0.15:
        return [Insn(ALU64_K | MOV, d, 0, 0, rng.choice([0, 1, 5, 100, 0x1000]))]
    if r < 0.3:
        return [Insn(ALU64_X | rng.choice([ADD, OR, AND, XOR, MOV]), d, rng.choice(VAL_REGS), 0, 0)]
    if r < 0.4:
        return [Insn(ALU32_K | AND, d, 0, 0, rng.choice([1, 3, 0xFF]))]
    o = rng.choice([ADD, OR, AND, RSH, LSH, XOR])
    imm = rng.randint(1, 7) if o in (RSH, LSH) else rng.choice([1, 2, 3, 7, 15, 0xFF, 0x100])
    return [Insn(ALU64_K | o, d, 0, 0, imm)]


def _mem(rng):
    off = rng.choice(SLOTS)
    if rng.random() < 0.5:
        return [Insn(0x7B, 10, rng.choice(VAL_REGS), off, 0)]  # *(u64 *)(r10 off) = rX
    return [Insn(0x79, rng.choice(VAL_REGS), 10, off, 0)]  # rX = *(u64 *)(r10 off)


def _jmp(rng, skip):
    o = rng.choice(JMP_OPS)
    d = rng.choice(VAL_REGS)
    cls = 0x05 if rng.random() < 0.8 else 0x06
    if rng.random() < 0.7:
        return Insn(cls | o, d, 0, skip, rng.choice([0, 1, 4, 10, 100, 0xFFF]))
    return Insn(cls | o | 8, d, rng.choice([r for r in VAL_REGS if r != d]), skip, 0)


def _block(rng, depth=0):
    out = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.45:
            out += _alu(rng)
        elif r < 0.7:
            out += _mem(rng)
        elif r < 0.9 and depth < 3:
            inner = _block(rng, depth + 1)
            out.append(_jmp(rng, len(inner)))
            out += inner
        elif depth < 2:
            body = _block(rng, depth + 2)
            k = rng.randint(2, 5)
            out.append(Insn(ALU64_K | MOV, 5, 0, 0, 0))
            out += body
            out.append(Insn(ALU64_K | ADD, 5, 0, 0, 1))
            out.append(Insn(0x05 | 0xA0, 5, 0, -(len(body) + 2), k))  # if r5 < k goto loop
    return out


def program(seed: int, blocks: int = 6) -> Program:
    rng = random.Random(seed)
    ins = [Insn(0xBF, 6, 1, 0, 0),
           Insn(0x61, 7, 6, 0, 0), Insn(0x61, 8, 6, 4, 0), Insn(0x61, 9, 6, 8, 0),
           Insn(ALU64_K | MOV, 0, 0, 0, 0)]
    for off in SLOTS:
        ins.append(Insn(0x7B, 10, rng.choice(VAL_REGS), off, 0))
    for _ in range(blocks):
        ins += _block(rng)
    ins.append(Insn(0x95, 0, 0, 0, 0))
    name = f"prune_{seed}"
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(ins))
