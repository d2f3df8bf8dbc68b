"""Where two verifier logs first differ, and a signature to group such places by.

Both logs are normalized first (kernel map addresses become ``map[IDX]`` as
pyverifier prints them; ``verification time`` lines go; the padding before a
state comment is folded). pyverifier reproduces the kernel's exploration
order, so the logs agree line for line up to the first real difference; that
line names the instruction being verified, and for a state line the
registers and stack slots whose values differ.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyverifier.disasm import normalize_log
from pyverifier.insn import Insn

_TIME = re.compile(r"^verification time \d+ usec$")
# the kernel glues the statistics onto a last line that has no newline ("...tail callverification time 67 usec")
_GLUED_TIME = re.compile(r"verification time \d+ usec$")
_INSN = re.compile(r"^(\d+): \(([0-9a-f]{2})\) (.*?)(?:\s+; (.*))?$")
_STATE_LINE = re.compile(r"^(\d+): (R\d.*|fp-.*)$")
_FROM = re.compile(r"^from (\d+) to (\d+): (.*)$")
_CLASSES = {0: "ld", 1: "ldx", 2: "st", 3: "stx", 4: "alu", 5: "jmp", 6: "jmp32", 7: "alu64"}


@dataclass
class Divergence:
    line: int  # 1-based line number in both normalized logs
    insn: int | None  # the instruction being verified there
    opcode: int | None
    kernel_line: str | None  # None: the kernel's log ended here
    py_line: str | None
    differing: list[str] = field(default_factory=list)  # state keys whose values differ (R0, fp-8, ...)
    signature: str = ""

    def to_dict(self) -> dict:
        return {
            "div_line": self.line,
            "div_insn": self.insn,
            "div_kernel_line": self.kernel_line,
            "div_py_line": self.py_line,
            "div_keys": ",".join(self.differing),
            "signature": self.signature,
        }


_PAD = re.compile(r" {2,}; ")


def _norm_line(raw: str) -> str | None:
    """One log line as ``normalize`` keeps it, or None when ``normalize`` drops it."""
    ln = raw.rstrip()
    if not ln or (ln[0] == "v" and _TIME.match(ln)):
        return None
    if ln.endswith(" usec") and "verification time" in ln:
        ln = _GLUED_TIME.sub("", ln)
    return _PAD.sub(" ; ", ln) if "  ; " in ln else ln


def _kernel_text(log: str, insns: list[Insn] | None) -> str:
    if insns is not None:
        try:
            return normalize_log(log, insns)
        except Exception:  # noqa: BLE001 - a log we cannot normalize is compared as it is
            pass
    return log


def normalize(log: str, insns: list[Insn] | None = None, kernel: bool = False) -> list[str]:
    if kernel:
        log = _kernel_text(log, insns)
    out = []
    for raw in log.split("\n"):
        ln = _norm_line(raw)
        if ln is not None:
            out.append(ln)
    return out


def state_tokens(text: str) -> dict[str, str]:
    """``R0=scalar(...) R1=ctx() fp-8=mmmm`` -> {"R0": "scalar(...)", ...}, splitting at depth 0."""
    toks: dict[str, str] = {}
    depth = 0
    start = 0
    text = text.strip()
    for i, ch in enumerate(text + " "):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == " " and depth == 0:
            tok = text[start:i]
            start = i + 1
            if "=" in tok:
                k, v = tok.split("=", 1)
                toks[k] = v
            elif tok:
                toks[tok] = ""
    return toks


def _state_of(line: str) -> dict[str, str] | None:
    m = _INSN.match(line)
    if m:
        return state_tokens(m.group(4) or "")
    m = _STATE_LINE.match(line)
    if m:
        return state_tokens(m.group(2))
    m = _FROM.match(line)
    if m:
        return state_tokens(m.group(3))
    return None


def _kind(line: str | None) -> str:
    if line is None:
        return "end of log"
    if _INSN.match(line):
        return "insn"
    if _STATE_LINE.match(line):
        return "state"
    if _FROM.match(line):
        return "branch"
    if line.startswith("processed "):
        return "statistics"
    if line.startswith("mark_precise"):
        return "precision"
    if line.startswith(("stack depth", "verification time")):
        return "statistics"
    if re.match(r"^\s+\d+: ", line) or line.startswith(("Live regs", "func#")):
        return "preamble"
    return "message"


def _insn_of_equal(line: str) -> int | None:
    """The instruction an equal line of both logs names (instruction, state or branch line), else None."""
    m = _INSN.match(line) or _STATE_LINE.match(line) or _FROM.match(line)
    if not m:
        return None
    return int(m.group(2) if line.startswith("from ") else m.group(1))


def _common_run(k: list[str], p: list[str], a: int, b: int) -> int:
    """How many raw lines ``k[a:]`` and ``p[b:]`` have in common at their start.

    Compared a slice at a time (list equality runs in C), growing the slice while
    it matches and shrinking it around a mismatch.
    """
    n = 0
    step = 64
    while True:
        ks = k[a + n:a + n + step]
        if ks and ks == p[b + n:b + n + step]:
            n += len(ks)
            step = min(step * 4, 1 << 16)
            continue
        if step > 64:
            step //= 16
            continue
        for x, y in zip(ks, p[b + n:b + n + step]):
            if x != y:
                return n
            n += 1
        return n


def _kept(lines: list[str]) -> int:
    """How many of ``lines`` ``normalize`` keeps."""
    return sum(1 for raw in lines if _norm_line(raw) is not None)


def first_divergence(kernel_log: str, py_log: str, insns: list[Insn] | None = None) -> Divergence | None:
    """The first differing line of the two logs (as ``normalize`` gives them), or None when they are the same.

    Logs of programs near the instruction limit are millions of lines: runs of raw
    lines that are equal in both logs (equal raw lines normalize to equal lines) are
    skipped a slice at a time, and only the lines between such runs are normalized
    one by one.
    """
    k = _kernel_text(kernel_log, insns).split("\n")
    p = py_log.split("\n")
    nk, np_ = len(k), len(p)
    a = b = 0  # next raw line of each log
    kept = 0  # normalized lines compared one by one and found equal
    runs: list[tuple[int, int]] = []  # raw lines k[s:e] skipped as equal in both logs
    runs_after_insn = 0  # runs[runs_after_insn:] come after the line ``insn`` was taken from
    insn = None
    while True:
        run = _common_run(k, p, a, b)
        if run:
            runs.append((a, a + run))
            a += run
            b += run
        kl = pl = None
        while a < nk:
            kl = _norm_line(k[a])
            a += 1
            if kl is not None:
                break
        while b < np_:
            pl = _norm_line(p[b])
            b += 1
            if pl is not None:
                break
        if kl != pl:
            break
        if kl is None:
            return None
        kept += 1
        found = _insn_of_equal(kl)
        if found is not None:
            insn = found
            runs_after_insn = len(runs)
    # the last instruction named by an equal line may be in a skipped run
    for s, e in reversed(runs[runs_after_insn:]):
        found = _last_insn_in(k, s, e)
        if found is not None:
            insn = found
            break
    line_no = kept + sum(_kept(k[s:e]) for s, e in runs) + 1
    # the divergence: which instruction, which keys
    for line in (kl, pl):
        if line is None:
            continue
        m = _INSN.match(line) or _STATE_LINE.match(line)
        if m:
            insn = int(m.group(1))
            break
        m = _FROM.match(line)
        if m:
            insn = int(m.group(2))
            break
    differing: list[str] = []
    ks, ps = (_state_of(kl) if kl else None), (_state_of(pl) if pl else None)
    if ks is not None and ps is not None:
        differing = [key for key in dict.fromkeys([*ks, *ps]) if ks.get(key) != ps.get(key)]
    opcode = None
    if insns is not None and insn is not None and 0 <= insn < len(insns):
        opcode = insns[insn].code
    div = Divergence(line_no, insn, opcode, kl, pl, differing)
    div.signature = signature(div)
    return div


def _last_insn_in(lines: list[str], start: int, end: int) -> int | None:
    for i in range(end - 1, start - 1, -1):
        ln = _norm_line(lines[i])
        if ln is not None:
            found = _insn_of_equal(ln)
            if found is not None:
                return found
    return None


def signature(div: Divergence) -> str:
    """Group key: the opcode class at the divergence and what differs there."""
    cls = _CLASSES.get(div.opcode & 7, "?") if div.opcode is not None else "-"
    kk, pk = _kind(div.kernel_line), _kind(div.py_line)
    if kk == pk == "message":
        what = f"message: {div.kernel_line[:80]}"
    elif div.differing and kk == pk:
        what = "state " + ",".join(_generic_key(k) for k in div.differing[:3])
    elif kk == pk:
        what = f"{kk} text"
    else:
        what = f"kernel {kk} / pyverifier {pk}"
    op = f"({div.opcode:02x})" if div.opcode is not None else ""
    return f"{cls}{op}: {what}"


def _generic_key(key: str) -> str:
    return "fp" if key.startswith("fp-") else key


def split_at_line(text: str, line_no: int) -> tuple[str, str, str] | None:
    """Split a displayed log around its ``line_no``-th normalized line (as ``normalize`` counts them).

    Returns (before, the line, after) or None when the log has fewer lines.
    The caller shows the log of the same verifier it normalized.
    """
    lines = text.split("\n")
    seen = 0
    for i, ln in enumerate(lines):
        s = ln.rstrip()
        if not s or _TIME.match(s):
            continue
        seen += 1
        if seen == line_no:
            before = "\n".join(lines[:i])
            return (before + "\n" if i else ""), ln, "\n" + "\n".join(lines[i + 1:]) if i + 1 < len(lines) else ""
    return None


def mark_differing(line: str | None, keys: list[str]) -> list[tuple[str, bool]]:
    """Split a log line into (text, differs) pieces so a report can mark the differing state entries.

    The state part (after `` ; `` of an instruction line, or a state/branch line) is split into
    ``KEY=VALUE`` entries at depth 0; entries whose key is in ``keys`` are marked.
    """
    if not line:
        return [(line or "", False)]
    wanted = set(keys)
    m = _INSN.match(line)
    if m and m.group(4) is not None:
        start = line.rindex(" ; " + m.group(4)) + 3 if (" ; " + m.group(4)) in line else len(line)
    else:
        m2 = _STATE_LINE.match(line) or _FROM.match(line)
        if not m2:
            return [(line, False)]
        start = m2.start(m2.lastindex)
    pieces: list[tuple[str, bool]] = [(line[:start], False)]
    depth = 0
    tok_start = start
    for i, ch in enumerate(line[start:] + " ", start):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == " " and depth == 0:
            tok = line[tok_start:i]
            if tok:
                pieces.append((tok, tok.split("=", 1)[0] in wanted))
            if i < len(line):
                pieces.append((" ", False))
            tok_start = i + 1
    return pieces
