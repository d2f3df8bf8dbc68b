"""The kernel-format verifier log: a buffer with the kernel's reset semantics.

The kernel writes its log into a buffer and sometimes moves the end back
(``bpf_vlog_reset``): to append a state comment to the instruction line just
printed, and, at log level 1, to forget a finished branch when the next one
is popped. Moving the end back truncates; bytes written before the new end
stay as they are, also when they were overwritten after the position was
remembered (the kernel shows the same effect).
"""
from __future__ import annotations

LOG_LEVEL1 = 1
LOG_LEVEL2 = 2
LOG_STATS = 4

_ALIGN = 40
_MIN_ALIGN = 8

S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1
S32_MIN = -(1 << 31)
S32_MAX = (1 << 31) - 1
U32_MAX = (1 << 32) - 1


def vlog_alignment(pos: int) -> int:
    v = max(pos + _MIN_ALIGN // 2, _ALIGN)
    v = (v + _MIN_ALIGN - 1) // _MIN_ALIGN * _MIN_ALIGN
    return v - pos - 1


class Log:
    """Append-only text with the kernel's ``end_pos``/reset behaviour."""

    __slots__ = ("level", "level1", "level2", "enabled", "_chunks", "end_pos")

    def __init__(self, level: int):
        self.level = level
        self.enabled = level != 0
        self.level1 = bool(level & (LOG_LEVEL1 | LOG_LEVEL2))  # the kernel's BPF_LOG_LEVEL test
        self.level2 = bool(level & LOG_LEVEL2)
        self._chunks: list[str] = []
        self.end_pos = 0  # length of the text so far (the kernel's end_pos)

    def write(self, s: str) -> None:
        if self.enabled:
            self._chunks.append(s)
            self.end_pos += len(s)

    def reset(self, pos: int) -> None:
        cut = self.end_pos - pos
        if cut <= 0 or not self.enabled:
            return
        chunks = self._chunks
        last = chunks[-1]
        if len(last) > cut:  # the common case: part of the last chunk (a state joining its insn line)
            chunks[-1] = last[:-cut]
            self.end_pos = pos
            return
        while cut > 0:
            last = chunks[-1]
            if len(last) <= cut:
                chunks.pop()
                cut -= len(last)
            else:
                chunks[-1] = last[: len(last) - cut]
                cut = 0
        self.end_pos = pos

    def text(self) -> str:
        s = "".join(self._chunks)
        self._chunks = [s] if s else []
        return s


# ---- number formatting (log.c: verbose_snum / verbose_unum / tnum_strn) ----

def fmt_unum(v: int) -> str:
    v &= U64_MAX
    return str(v) if v <= 0xFFFF else hex(v)


def fmt_snum(v: int) -> str:
    """A signed 64-bit value: decimal within s16, else hex of its u64 bits."""
    if -0x8000 <= v <= 0x7FFF:
        return str(v)
    return hex(v & U64_MAX)


def fmt_tnum(value: int, mask: int) -> str:
    if mask == 0:
        return fmt_unum(value)
    return f"({value:#x}; {mask:#x})"


def fmt_ranges(smin: int, smax: int, umin: int, umax: int, s32min: int, s32max: int, u32min: int,
               u32max: int) -> list[str]:
    """The kernel's print_scalar_ranges: equal bounds share one value."""

    def s32(v: int) -> int:
        return v if -0x8000 <= v <= 0x7FFF else v & U32_MAX

    items = [
        ["smin", smin, smin == S64_MIN],
        ["smax", smax, smax == S64_MAX],
        ["umin", umin, umin == 0],
        ["umax", umax, umax == U64_MAX],
        ["smin32", s32(s32min), s32min == S32_MIN],
        ["smax32", s32(s32max), s32max == S32_MAX],
        ["umin32", u32min, u32min == 0],
        ["umax32", u32max, u32max == U32_MAX],
    ]
    out = []
    n = len(items)
    for i in range(n):
        name, val, omit = items[i]
        if omit:
            continue
        # compare as u64 bit patterns like the kernel
        val_u = val & U64_MAX
        neg1 = name[0] == "s" and val < 0
        names = [name]
        for j in range(i + 2, n, 2):
            n2, v2, o2 = items[j]
            if o2 or (v2 & U64_MAX) != val_u:
                continue
            neg2 = n2[0] == "s" and v2 < 0
            if neg2 != neg1:
                continue
            items[j][2] = True
            names.append(n2)
        num = fmt_snum(val) if name[0] == "s" else fmt_unum(val)
        out.append("=".join(names) + "=" + num)
    return out
