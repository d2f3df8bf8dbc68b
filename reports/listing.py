"""The instruction listing of a program page, and the kernel log as pyverifier prints it.

Text comes from ``pyverifier.disasm`` (the kernel's own instruction syntax).
When that module cannot be imported or fails on a program, the listing falls
back to the raw fields of each instruction and says so on the page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from pyverifier.insn import Insn
from pyverifier.program import Program

LD_IMM64 = 0x18  # BPF_LD | BPF_IMM | BPF_DW: two slots
LISTING_LIMIT = 20_000  # instructions on a page; a longer program shows its start and its end

FormatLine = Callable[[Sequence[Insn], int], str]


@dataclass(frozen=True)
class Listing:
    text: str  # one line per instruction: "idx: hex  text", text as the kernel's log prints it after "N: "
    count: int  # instructions (an ld_imm64 counts once)
    disassembled: bool  # False: pyverifier.disasm was unavailable or failed, ``text`` holds raw fields
    note: str = ""  # why the fallback was used
    cut: str = ""  # how a long listing was shortened


def _disassembler() -> tuple[FormatLine | None, str]:
    """``pyverifier.disasm.format_line``, or None and the reason it cannot be used."""
    try:
        from pyverifier.disasm import format_line
    except Exception as e:  # ImportError while missing; anything while another helper is editing it
        return None, f"{type(e).__name__}: {e}"
    return format_line, ""


def _raw_text(insns: Sequence[Insn], i: int) -> str:
    x = insns[i]
    return f"code=0x{x.code:02x} dst=r{x.dst} src=r{x.src} off={x.off} imm={x.imm}"


def _starts(insns: Sequence[Insn]) -> list[int]:
    """The first slot of each instruction (an ld_imm64 spans two slots)."""
    out = []
    i, n = 0, len(insns)
    while i < n:
        out.append(i)
        i += 2 if insns[i].code == LD_IMM64 and i + 1 < n else 1
    return out


def _lines(raw: bytes, insns: Sequence[Insn], starts: list[int], picks: list[int], fmt: FormatLine) -> list[str]:
    n = len(insns)
    width = len(str(max(n - 1, 0)))
    hexw = 33 if len(starts) < n else 16  # some ld_imm64 spans two slots
    out = []
    for k in picks:
        if k < 0:
            out.append(f"{'':>{width}}  … {-k:,} instructions not shown …")
            continue
        i = starts[k]
        j = starts[k + 1] if k + 1 < len(starts) else n
        hx = raw[i * 8 : j * 8].hex(" ", -8)
        try:
            text = fmt(insns, i)
        except Exception as e:
            raise _FormatFailed(i, e) from e
        out.append(f"{i:>{width}}: {hx:<{hexw}}  {text}")
    return out


class _FormatFailed(Exception):
    def __init__(self, idx: int, error: Exception):
        super().__init__(idx, error)
        self.idx, self.error = idx, error


def listing(program: Program, insns: Sequence[Insn] | None = None, limit: int = LISTING_LIMIT) -> Listing:
    """The listing of ``program`` (``insns``: its decoded instructions, when the caller has them)."""
    if insns is None:
        insns = program.decoded()
    starts = _starts(insns)
    count = len(starts)
    if count > limit:
        half = limit // 2
        omitted = count - 2 * half
        picks = list(range(half)) + [-omitted] + list(range(count - half, count))
        cut = f"{count:,} instructions: the first and the last {half:,} are shown"
    else:
        picks = list(range(count))
        cut = ""
    fmt, why = _disassembler()
    if fmt is None:
        note = f"pyverifier.disasm is not available ({why}); raw instruction fields shown"
        return Listing("\n".join(_lines(program.insns, insns, starts, picks, _raw_text)), count, False, note, cut)
    try:
        text = "\n".join(_lines(program.insns, insns, starts, picks, fmt))
    except _FormatFailed as f:
        note = (f"pyverifier.disasm failed at instruction {f.idx} ({type(f.error).__name__}: {f.error}); "
                "raw instruction fields shown")
        return Listing("\n".join(_lines(program.insns, insns, starts, picks, _raw_text)), count, False, note, cut)
    return Listing(text, count, True, "", cut)


def normalized_kernel_log(log: str, insns: Sequence[Insn] | None) -> tuple[str, bool]:
    """The kernel's log with map and BTF addresses of ``ld_imm64`` shown as pyverifier shows them.

    Returns the text and whether it changed (it does not when pyverifier.disasm
    is unavailable or there are no instructions to take the map indices from).
    """
    if insns is None or not log:
        return log, False
    try:
        from pyverifier.disasm import normalize_log

        out = normalize_log(log, insns)
    except Exception:
        return log, False
    return out, out != log
