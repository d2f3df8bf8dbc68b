"""The ``Result`` record: what one verifier said about one program."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

ACCEPT = "accept"
REJECT = "reject"
ERROR = "error"  # the tool failed or could not decide; never mixed with a verdict
VERDICTS = (ACCEPT, REJECT, ERROR)

NOT_MODELLED = "not modelled: "  # prefix of ``message`` for features pyverifier lacks


@dataclass
class Result:
    program_id: str
    verifier: str  # "kernel-6.18.44-..." / "pyverifier-0.1.0"
    verdict: str
    privileged: bool = True
    errno: int | None = None
    message: str = ""  # the reason: the last meaningful log line, or the tool's error
    log: str = ""
    log_level: int = 2
    insns_processed: int | None = None
    total_states: int | None = None
    peak_states: int | None = None
    max_states_per_insn: int | None = None
    mark_read: int | None = None
    stack_depth: list[int] = field(default_factory=list)  # per subprogram
    verify_us: list[float] = field(default_factory=list)  # one per repetition
    wall_us: float | None = None
    mem_peak_bytes: int | None = None
    # kernel loader only (None elsewhere): where the outcome was decided (kernel_loader.outcome.STAGES:
    # "verifier", "load", "permission", "maps", "attach_target", "program"), the attach target's BTF id,
    # bpf_prog_info of an accepted program, and the attach check's summary when one was asked for
    stage: str | None = None
    attach_btf_id: int | None = None
    verified_insns: int | None = None
    xlated_prog_len: int | None = None
    jited_prog_len: int | None = None
    attach_check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Result":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


_PROCESSED = re.compile(
    r"processed (\d+) insns \(limit \d+\) max_states_per_insn (\d+) total_states (\d+) "
    r"peak_states (\d+) mark_read (\d+)"
)
# matched where str.find saw their first words (the line start is checked by hand)
_STACK = re.compile(r"stack depth ([\d+]+)")
_VTIME = re.compile(r"verification time (\d+) usec")

_NOT_A_REASON = (
    "processed ",
    "verification time",
    "stack depth",
    "Live regs",
    "func#",
    "mark_precise",
    "last_idx",
    "parent ",
    "regs=",
    "from ",
    "cur state:",
    "old state:",
    "; ",  # a source line (line_info): at level 4 the kernel may print one after the error
)
# Some kernel messages lack their newline, so the statistics run into them:
# "expected prog array map for tail callverification time 12 usec".
_GLUED_STATS = re.compile(r"(?<=\S)(verification time \d+ usec)")


def _line_start(log: str, i: int) -> bool:
    return i == 0 or log[i - 1] == "\n"


def parse_log_stats(log: str) -> dict[str, Any]:
    """The statistics lines of a kernel-format verifier log, as Result fields.

    A log can be a hundred megabytes: the statistics are found by searching for
    their fixed words (``str.find``), not by running the patterns over the text.
    """
    out: dict[str, Any] = {}
    m = None
    i = log.rfind("processed ")
    while i >= 0:  # the last statistics line
        m = _PROCESSED.match(log, i)
        if m:
            break
        i = log.rfind("processed ", 0, i)
    if m:
        (
            out["insns_processed"],
            out["max_states_per_insn"],
            out["total_states"],
            out["peak_states"],
            out["mark_read"],
        ) = (int(x) for x in m.groups())
    i = log.find("stack depth")
    while i >= 0:  # the first at the start of a line
        if _line_start(log, i):
            sm = _STACK.match(log, i)
            if sm:
                out["stack_depth"] = [int(x) for x in sm.group(1).split("+") if x]
                break
        i = log.find("stack depth", i + 1)
    i = log.find("verification time ")
    while i >= 0:  # the first at the start of a line, or glued to a message without its newline
        if _line_start(log, i) or not log[i - 1].isspace():
            tm = _VTIME.match(log, i)
            if tm:
                out["verification_time_us"] = int(tm.group(1))
                break
        i = log.find("verification time ", i + 1)
    return out


def rejection_message(log: str) -> str:
    """The kernel's reason for a rejection: the last meaningful line of the log.

    The kernel prints its error, then (when it got that far) the statistics
    lines; the reason is the last line before those that is not a state dump.
    """
    if len(log) > _TAIL:
        # a long log: look at its last lines first (from a line start, so they split as in the whole log)
        start = log.find("\n", len(log) - _TAIL) + 1
        if start:
            reason = _last_reason(log[start:])
            if reason:
                return reason
    return _last_reason(log)


_TAIL = 1 << 16
_GLUED_LOOP = re.compile(r"^\d+: \([0-9a-f]{2}\) .* (infinite loop detected at insn \d+)$")


def _last_reason(log: str) -> str:
    log = _GLUED_STATS.sub(r"\n\1", log)
    lines = [ln for ln in log.rstrip("\n").split("\n") if ln.strip()]
    for ln in reversed(lines):
        s = ln.strip()
        if s.startswith(_NOT_A_REASON):
            continue
        if re.match(r"^\d+: ", s):
            # an instruction or a state line: the reason is not this, unless the kernel glued the
            # infinite-loop verdict (found at the next instruction's prune point) onto a level-1
            # instruction line that was still waiting for its state comment
            m = _GLUED_LOOP.search(s)
            if m:
                return m.group(1)
            continue
        return s
    return ""
