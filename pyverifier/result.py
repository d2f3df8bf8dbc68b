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
_STACK = re.compile(r"^stack depth ([\d+]+)", re.M)
_VTIME = re.compile(r"^verification time (\d+) usec", re.M)

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
)
# Some kernel messages lack their newline, so the statistics run into them:
# "expected prog array map for tail callverification time 12 usec".
_GLUED_STATS = re.compile(r"(?<=\S)(verification time \d+ usec)")


def parse_log_stats(log: str) -> dict[str, Any]:
    """The statistics lines of a kernel-format verifier log, as Result fields."""
    out: dict[str, Any] = {}
    log = _GLUED_STATS.sub(r"\n\1", log)
    m = None
    for m in _PROCESSED.finditer(log):
        pass
    if m:
        (
            out["insns_processed"],
            out["max_states_per_insn"],
            out["total_states"],
            out["peak_states"],
            out["mark_read"],
        ) = (int(x) for x in m.groups())
    sm = _STACK.search(log)
    if sm:
        out["stack_depth"] = [int(x) for x in sm.group(1).split("+") if x]
    tm = _VTIME.search(log)
    if tm:
        out["verification_time_us"] = int(tm.group(1))
    return out


def rejection_message(log: str) -> str:
    """The kernel's reason for a rejection: the last meaningful line of the log.

    The kernel prints its error, then (when it got that far) the statistics
    lines; the reason is the last line before those that is not a state dump.
    """
    log = _GLUED_STATS.sub(r"\n\1", log)
    lines = [ln for ln in log.rstrip("\n").split("\n") if ln.strip()]
    for ln in reversed(lines):
        s = ln.strip()
        if s.startswith(_NOT_A_REASON):
            continue
        if re.match(r"^\d+: ", s) or re.match(r"^\d+: \(", s):
            # an instruction or a state line: the reason is not this
            continue
        return s
    return ""
