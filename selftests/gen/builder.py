"""Emitting instructions with forward and backward labels."""
from __future__ import annotations

from pyverifier.insn import Insn
from pyverifier.opcodes import (
    BPF_ABS, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_DW, BPF_END, BPF_IND, BPF_JMP, BPF_JMP32,
    BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOV, BPF_NEG, BPF_PSEUDO_CALL,
    BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_ST, BPF_STX, BPF_TO_BE, BPF_TO_LE, BPF_X,
    BYTES_SIZE, CALL, EXIT, JA, LD_IMM64, MAY_GOTO,
)


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


class Builder:
    """A growing list of instruction slots; jumps and calls name labels, resolved by ``finish``."""

    __slots__ = ("insns", "_fixups", "_labels", "_next")

    def __init__(self) -> None:
        self.insns: list[Insn] = []
        self._fixups: list[tuple[int, str, bool]] = []  # (slot, label, offset in imm)
        self._labels: dict[str, int] = {}
        self._next = 0

    def __len__(self) -> int:
        return len(self.insns)

    # --- labels ----------------------------------------------------------------
    def new_label(self, hint: str = "l") -> str:
        self._next += 1
        return f"{hint}{self._next}"

    def label(self, name: str) -> None:
        if name in self._labels:
            raise ValueError(f"label {name!r} placed twice")
        self._labels[name] = len(self.insns)

    def placed(self, name: str) -> bool:
        return name in self._labels

    def used(self, name: str) -> bool:
        """Some jump or call refers to ``name``."""
        return any(label == name for _, label, _ in self._fixups)

    def checkpoint(self) -> tuple[int, int, int, int]:
        return (len(self.insns), len(self._fixups), len(self._labels), self._next)

    def rollback(self, cp: tuple[int, int, int, int]) -> None:
        n_insns, n_fix, n_labels, _ = cp
        del self.insns[n_insns:]
        del self._fixups[n_fix:]
        for name in list(self._labels)[n_labels:]:
            del self._labels[name]
        # label numbers keep counting up, so a name is never reused after a rollback

    def finish(self) -> list[Insn]:
        out = list(self.insns)
        for slot, name, in_imm in self._fixups:
            if name not in self._labels:
                raise ValueError(f"label {name!r} used but never placed")
            delta = self._labels[name] - slot - 1
            out[slot] = out[slot]._replace(imm=delta) if in_imm else out[slot]._replace(off=delta)
        return out

    # --- raw -------------------------------------------------------------------
    def emit(self, code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> None:
        self.insns.append(Insn(code, dst, src, off, _s32(imm)))

    # --- ALU -------------------------------------------------------------------
    def alu_imm(self, op: int, dst: int, imm: int, is64: bool = True, off: int = 0) -> None:
        self.emit((BPF_ALU64 if is64 else BPF_ALU) | op | BPF_K, dst, 0, off, imm)

    def alu_reg(self, op: int, dst: int, src: int, is64: bool = True, off: int = 0) -> None:
        self.emit((BPF_ALU64 if is64 else BPF_ALU) | op | BPF_X, dst, src, off, 0)

    def mov_imm(self, dst: int, imm: int, is64: bool = True) -> None:
        self.alu_imm(BPF_MOV, dst, imm, is64)

    def mov(self, dst: int, src: int, is64: bool = True) -> None:
        self.alu_reg(BPF_MOV, dst, src, is64)

    def movsx(self, dst: int, src: int, bits: int, is64: bool = True) -> None:
        self.alu_reg(BPF_MOV, dst, src, is64, off=bits)

    def neg(self, dst: int, is64: bool = True) -> None:
        self.alu_imm(BPF_NEG, dst, 0, is64)

    def endian(self, kind: str, width: int, dst: int) -> None:
        """``le``/``be`` (ALU|END) or ``bswap`` (ALU64|END) of ``width`` bits."""
        if kind == "bswap":
            self.emit(BPF_ALU64 | BPF_END | BPF_TO_LE, dst, 0, 0, width)
        else:
            self.emit(BPF_ALU | BPF_END | (BPF_TO_BE if kind == "be" else BPF_TO_LE), dst, 0, 0, width)

    # --- jumps and calls -------------------------------------------------------
    def jmp_imm(self, op: int, dst: int, imm: int, target: str, is32: bool = False) -> None:
        self._fixups.append((len(self.insns), target, False))
        self.emit((BPF_JMP32 if is32 else BPF_JMP) | op | BPF_K, dst, 0, 0, imm)

    def jmp_reg(self, op: int, dst: int, src: int, target: str, is32: bool = False) -> None:
        self._fixups.append((len(self.insns), target, False))
        self.emit((BPF_JMP32 if is32 else BPF_JMP) | op | BPF_X, dst, src, 0, 0)

    def goto(self, target: str) -> None:
        self._fixups.append((len(self.insns), target, False))
        self.emit(JA)

    def may_goto(self, target: str) -> None:
        self._fixups.append((len(self.insns), target, False))
        self.emit(MAY_GOTO)

    def call(self, helper: int) -> None:
        self.emit(CALL, 0, 0, 0, helper)

    def call_sub(self, target: str) -> None:
        self._fixups.append((len(self.insns), target, True))
        self.emit(CALL, 0, BPF_PSEUDO_CALL, 0, 0)

    def exit(self) -> None:
        self.emit(EXIT)

    # --- 64-bit immediates -------------------------------------------------------
    def ld_imm64(self, dst: int, value: int) -> None:
        value &= (1 << 64) - 1
        self.emit(LD_IMM64, dst, 0, 0, value & 0xFFFFFFFF)
        self.emit(0, 0, 0, 0, value >> 32)

    def ld_map(self, dst: int, index: int) -> None:
        self.emit(LD_IMM64, dst, BPF_PSEUDO_MAP_FD, 0, index)
        self.emit(0)

    def ld_map_value(self, dst: int, index: int, off: int) -> None:
        self.emit(LD_IMM64, dst, BPF_PSEUDO_MAP_VALUE, 0, index)
        self.emit(0, 0, 0, 0, off)

    # --- memory ----------------------------------------------------------------
    def ldx(self, size: int, dst: int, base: int, off: int) -> None:
        self.emit(BPF_LDX | BPF_MEM | BYTES_SIZE[size], dst, base, off)

    def ldsx(self, size: int, dst: int, base: int, off: int) -> None:
        self.emit(BPF_LDX | BPF_MEMSX | BYTES_SIZE[size], dst, base, off)

    def stx(self, size: int, base: int, src: int, off: int) -> None:
        self.emit(BPF_STX | BPF_MEM | BYTES_SIZE[size], base, src, off)

    def st(self, size: int, base: int, off: int, imm: int) -> None:
        self.emit(BPF_ST | BPF_MEM | BYTES_SIZE[size], base, 0, off, imm)

    def atomic(self, size: int, base: int, src: int, off: int, imm: int) -> None:
        self.emit(BPF_STX | BPF_ATOMIC | BYTES_SIZE[size], base, src, off, imm)

    def ld_abs(self, size: int, imm: int) -> None:
        self.emit(BPF_LD | BPF_ABS | BYTES_SIZE[size], 0, 0, 0, imm)

    def ld_ind(self, size: int, src: int, imm: int) -> None:
        self.emit(BPF_LD | BPF_IND | BYTES_SIZE[size], 0, src, 0, imm)


assert BPF_DW == BYTES_SIZE[8]
