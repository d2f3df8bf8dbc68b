"""Stack slots of one frame, and the 6.18 stack liveness analysis.

A frame's stack is a list of 8-byte ``Slot`` objects, index ``spi`` 0 for
``fp-8`` .. ``fp-1``, 1 for ``fp-16``.., grown on demand like the kernel's
``allocated_stack``. Each slot has 8 byte kinds (index ``j`` is the byte at
``fp - 8*spi - 1 - j``) and, for a spill, the spilled register. Slots are
immutable and shared between states (``Slot.text`` caches their log text).

``StackLiveness`` is the kernel's call-chain sensitive live-stack analysis
(kernel/bpf/liveness.c), for the main frame: it records the slots each
instruction may read and must write, propagates them to a fixed point when a
path ends, and prints the ``(0) frame 0 insn N +live -8`` lines of level 2.
"""
from __future__ import annotations

from typing import Any

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
            types = self.types
            if types == _ALL_INVALID:
                txt = ""
            elif types[7] == STACK_SPILL:
                j = 0
                while j < 8 and types[j] != STACK_SPILL:
                    j += 1
                txt = "".join(SLOT_CHARS[t] for t in types[:j])
            else:
                txt = "".join(SLOT_CHARS[t] for t in types)
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


_STACK_MASK_TEXT: dict[int, str] = {}


def fmt_stack_mask(mask: int) -> str:
    t = _STACK_MASK_TEXT.get(mask)
    if t is None:
        t = _fmt_stack_mask(mask)
        if len(_STACK_MASK_TEXT) < 4096:
            _STACK_MASK_TEXT[mask] = t
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


class StackLiveness:
    """Live stack slots for call chain (0): may_read / must_write per instruction."""

    __slots__ = ("n", "may_read", "must_write", "must_write_acc", "live_before", "must_write_set", "allocated",
                 "updated", "must_write_dropped", "write_acc", "write_idx", "callchain")

    def __init__(self, insn_cnt: int):
        n = self.n = insn_cnt
        self.may_read = [0] * n
        self.must_write = [0] * n
        self.must_write_acc = [0] * n
        self.live_before = [0] * n
        self.must_write_set = [False] * n
        self.allocated = False
        self.updated = False
        self.must_write_dropped = False
        self.write_acc = 0
        self.write_idx = 0
        self.callchain = "(0)"

    def mark_read(self, idx: int, mask: int) -> None:
        self.allocated = True
        new = self.may_read[idx] | mask
        if new != self.may_read[idx] and (new | self.live_before[idx]) != self.live_before[idx]:
            self.updated = True
        self.may_read[idx] = new

    def reset_write_marks(self, idx: int) -> None:
        self.write_idx = idx
        self.write_acc = 0

    def mark_write(self, mask: int) -> None:
        self.write_acc |= mask

    def commit_write_marks(self) -> None:
        idx = self.write_idx
        mask = self.write_acc
        if not (mask == 0 and not self.must_write_set[idx]):
            self.allocated = True
            old = self.must_write[idx]
            if self.must_write_set[idx]:
                mask &= old
            if old != mask:
                self.must_write[idx] = mask
                self.updated = True
            if old & ~mask:
                self.must_write_dropped = True
        self.must_write_set[idx] = True
        self.write_idx = 0

    def update(self, log, succ, postorder: list[int], prune_points, subprog_start: int = 0) -> None:
        """bpf_update_live_stack for the main frame."""
        if not self.updated:
            return
        if self.must_write_dropped:
            for i in range(self.n):
                self.must_write_acc[i] = 0
        lb = self.live_before
        mwa = self.must_write_acc
        mr = self.may_read
        mw = self.must_write
        cc = self.callchain
        level2 = log.level2
        cnt = 0 if self.allocated else 1
        if self.allocated:
            while True:
                cnt += 1
                changed = False
                for i in postorder:
                    ss = succ[i]
                    if not ss:
                        continue
                    after = 0
                    acc = (1 << 64) - 1
                    for s in ss:
                        after |= lb[s]
                        acc &= mwa[s]
                    acc |= mw[i]
                    before = (after & ~mw[i]) | mr[i]
                    if before != lb[i] or acc != mwa[i]:
                        changed = True
                    if level2 and (mr[i] or mw[i] or i == subprog_start or i in prune_points):
                        _log_change(log, cc, "live", i, lb[i], before)
                        _log_change(log, cc, "written", i, mwa[i], acc)
                    lb[i] = before
                    mwa[i] = acc
                if not changed:
                    break
        if level2:
            log.write(f"{cc} live stack update done in {cnt} iterations\n")
        self.updated = False
        self.must_write_dropped = False


def _log_change(log, cc: str, pfx: str, idx: int, old: int, new: int) -> None:
    changed = old ^ new
    if not changed:
        return
    ones = new & changed
    zeros = ~new & changed
    s = f"{cc} frame 0 insn {idx} "
    if ones:
        s += f"+{pfx} {fmt_stack_mask(ones)} "
    if zeros:
        s += f"-{pfx} {fmt_stack_mask(zeros)}"
    log.write(s + "\n")
