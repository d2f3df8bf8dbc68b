"""Stack slots of one frame.

A frame's stack is a list of 8-byte ``Slot`` objects, index ``spi`` 0 for
``fp-8`` .. ``fp-1``, 1 for ``fp-16``.., grown on demand like the kernel's
``allocated_stack``. Each slot has 8 byte kinds (index ``j`` is the byte at
``fp - 8*spi - 1 - j``) and, for a spill, the spilled register. Slots are
immutable and shared between states (``Slot.text`` caches their log text).

The 6.18 live-stack analysis that prints ``(0) frame 0 insn N +live -8`` is
in ``liveness.py``.
"""
from __future__ import annotations

from typing import Any

from .caches import keep

STACK_INVALID = 0
STACK_SPILL = 1
STACK_MISC = 2
STACK_ZERO = 3
STACK_DYNPTR = 4
STACK_ITER = 5
STACK_IRQ_FLAG = 6

SLOT_CHARS = "?rm0dif"
REG_SIZE = 8
MAX_BPF_STACK = 512


class Slot:
    __slots__ = ("types", "spilled", "txt")

    def __init__(self, types: tuple[int, ...], spilled: Any = None):
        self.types = types  # 8 byte kinds
        self.spilled = spilled  # Reg for STACK_SPILL, else None
        self.txt = None  # slot_text(), cached: a Slot never changes

    def text(self) -> str:
        """The byte kinds the log prints for this slot ('' when all are invalid); for a spill,
        the kinds before the first spill byte (the spilled register follows them)."""
        txt = self.txt
        if txt is None:
            txt = _TYPES_TXT.get(self.types)
            if txt is None:
                txt = _types_text(self.types)
            self.txt = txt
        return txt

    def is_spill(self) -> bool:
        return self.types[7] == STACK_SPILL

    def chars(self) -> str:
        return "".join(SLOT_CHARS[t] for t in self.types)

    def __repr__(self) -> str:
        return f"Slot({self.chars()}, {self.spilled!r})"


_ALL_INVALID = (STACK_INVALID,) * 8
EMPTY_SLOT = Slot(_ALL_INVALID)

# the text of the byte kinds, by the kinds (new slots are made on every write; their kinds repeat)
_TYPES_TXT: dict[tuple[int, ...], str] = {}


def _types_text(types: tuple[int, ...]) -> str:
    """``Slot.text`` of ``types``, made and kept."""
    if types == _ALL_INVALID:
        txt = ""
    elif types[7] == STACK_SPILL:
        j = 0
        while j < 8 and types[j] != STACK_SPILL:
            j += 1
        txt = "".join(SLOT_CHARS[t] for t in types[:j])
    else:
        txt = "".join(SLOT_CHARS[t] for t in types)
    return keep(_TYPES_TXT, types, txt, 4096)


_STACK_MASK_TEXT: dict[int, str] = {}


def fmt_stack_mask(mask: int) -> str:
    t = _STACK_MASK_TEXT.get(mask)
    if t is None:
        t = keep(_STACK_MASK_TEXT, mask, _fmt_stack_mask(mask), 4096)
    return t


def _fmt_stack_mask(mask: int) -> str:
    out = []
    spi = 0
    while mask:
        if mask & 1:
            out.append(f"-{(spi + 1) * REG_SIZE}")
        mask >>= 1
        spi += 1
    return ",".join(out)
