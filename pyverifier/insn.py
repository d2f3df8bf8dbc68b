"""The BPF instruction: one 8-byte slot, decoded and encoded.

A program is a list of ``Insn``, one per 8-byte slot, so list indices are the
kernel's instruction indices. A ``ld_imm64`` occupies two slots: the first
carries the low 32 bits in ``imm``; the second is an ``Insn`` with code 0 whose
``imm`` holds the high 32 bits.
"""
from __future__ import annotations

import struct
import sys
from array import array
from typing import NamedTuple

INSN_SIZE = 8
_STRUCT = struct.Struct("<BBhi")


class Insn(NamedTuple):
    code: int  # opcode byte
    dst: int  # destination register (low nibble of byte 1)
    src: int  # source register (high nibble of byte 1)
    off: int  # signed 16-bit offset
    imm: int  # signed 32-bit immediate

    def encode(self) -> bytes:
        return _STRUCT.pack(self.code, (self.src << 4) | self.dst, self.off, self.imm)


class DecodeError(ValueError):
    """The bytes are not a whole number of instructions."""


_SLOTS_ARE_U64 = array("Q").itemsize == INSN_SIZE
_SHARE_FROM = 1024 * INSN_SIZE  # programs from this many bytes on share the Insn of equal slots


def decode(data: bytes) -> list[Insn]:
    if len(data) % INSN_SIZE:
        raise DecodeError(
            f"program is {len(data)} bytes, not a multiple of {INSN_SIZE}: truncated instruction at byte "
            f"{len(data) - len(data) % INSN_SIZE}"
        )
    if len(data) < _SHARE_FROM or not _SLOTS_ARE_U64:
        new = tuple.__new__
        return [new(Insn, (code, regs & 0xF, regs >> 4, off, imm)) for code, regs, off, imm in _STRUCT.iter_unpack(data)]
    # Insn is immutable: equal slots of a long program share one object (programs near
    # the instruction limit repeat a few instructions hundreds of thousands of times)
    seen: dict[int, Insn] = {}
    out = []
    append = out.append
    unpack = _STRUCT.unpack
    order = sys.byteorder
    for slot in array("Q", data):
        insn = seen.get(slot)
        if insn is None:
            code, regs, off, imm = unpack(slot.to_bytes(INSN_SIZE, order))
            insn = seen[slot] = Insn(code, regs & 0xF, regs >> 4, off, imm)
        append(insn)
    return out


def encode(insns: list[Insn]) -> bytes:
    pack = _STRUCT.pack
    return b"".join([pack(code, (src << 4) | dst, off, imm) for code, dst, src, off, imm in insns])
