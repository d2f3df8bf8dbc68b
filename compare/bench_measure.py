"""Measuring one program with both verifiers for the benchmark.

Three passes per program, each with its own purpose:

1. ``stats_pass``: one level-2 verification by each verifier. It gives the
   verdicts (and so which programs may be compared), the kernel's statistics
   (``processed``, ``total_states``, ``peak_states``) and the number of pruned
   paths (the ``N: safe`` lines a level-2 log prints when a state is found
   equivalent to an explored one). For pyverifier it is also the warm-up run:
   every module it imports lazily is imported before anything is timed.
2. ``time_pass``: ``repeat`` verifications at the benchmark's log level. The
   kernel's figure is its own ``verification time`` (from the log of each
   ``BPF_PROG_LOAD``); pyverifier's is measured in-process around ``verify``
   (``Result.verify_us``).
3. ``memory_pass`` (pyverifier only): one run under tracemalloc
   (``compare.bench_memory``).

A pyverifier run longer than the per-program budget is stopped with
``SIGALRM`` (an exception ``verify`` does not catch) and the program is
excluded with that reason.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from pyverifier.program import Program
from pyverifier.result import Result

from .classify import classify, size_class
from .pyworker import BudgetExceeded, InProcess, time_budget

_SAFE = re.compile(r"^(?:\d+: safe|from \d+ to \d+(?: \(speculative execution\))?: safe)$", re.M)


def count_pruned(log: str | None) -> int:
    """Paths cut by pruning: the ``safe`` lines of a level-2 log (kernel and pyverifier print the same)."""
    return len(_SAFE.findall(log or ""))


@dataclass
class SideStats:
    """What one verifier said in the stats pass."""

    verdict: str
    message: str = ""
    insns_processed: int | None = None
    total_states: int | None = None
    peak_states: int | None = None
    max_states_per_insn: int | None = None
    pruned: int | None = None
    times_us: list[float] = field(default_factory=list)  # the time pass
    note: str = ""
    warm_up_us: float | None = None  # pyverifier under a JIT: its unmeasured warm-up verification

    @classmethod
    def from_result(cls, r: Result) -> "SideStats":
        return cls(
            verdict=r.verdict,
            message=r.message or "",
            insns_processed=r.insns_processed,
            total_states=r.total_states,
            peak_states=r.peak_states,
            max_states_per_insn=r.max_states_per_insn,
            pruned=count_pruned(r.log) if r.log else None,
        )

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "message": self.message,
            "insns_processed": self.insns_processed,
            "total_states": self.total_states,
            "peak_states": self.peak_states,
            "max_states_per_insn": self.max_states_per_insn,
            "pruned": self.pruned,
            "times_us": self.times_us,
            "note": self.note,
            "warm_up_us": self.warm_up_us,
        }


@dataclass
class ProgramBench:
    """Everything the benchmark measured about one program."""

    id: str
    name: str
    insn_count: int
    tags: tuple[str, ...]
    kernel: SideStats | None
    py: SideStats
    cls: str  # compare.classify class, or "kernel_not_run"
    memory: dict | None = None

    @property
    def size_class(self) -> str:
        return size_class(self.insn_count)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "insn_count": self.insn_count,
            "size_class": self.size_class,
            "tags": list(self.tags),
            "class": self.cls,
            "kernel": self.kernel.to_dict() if self.kernel else None,
            "pyverifier": self.py.to_dict(),
            "memory": self.memory,
        }


def _py_verify(runner, program: Program, log_level: int, budget: float | None) -> Result | str:
    from kernel_loader.loader import LOG_STATS

    return runner.verify(program, log_level | LOG_STATS, budget)


def stats_pass(program: Program, with_kernel: bool, budget: float | None, runner=None) -> ProgramBench:
    """Verdicts, statistics and pruned paths of both verifiers at log level 2 (see the module doc)."""
    k = None
    if with_kernel:
        import kernel_loader

        k = SideStats.from_result(kernel_loader.load(program, log_level=2, repeat=1))
    r = _py_verify(runner or InProcess(), program, 2, budget)
    if isinstance(r, str):
        py = SideStats(verdict="error", message=r, note="budget" if "budget" in r else "worker")
    else:
        py = SideStats.from_result(r)
    cls = classify(k.verdict, py.verdict, k.message, py.message) if k else "kernel_not_run"
    return ProgramBench(program.id, program.name, program.insn_count, tuple(program.tags), k, py, cls)


def time_pass(program: Program, pb: ProgramBench, repeat: int, log_level: int, budget: float | None,
              runner=None) -> None:
    """``repeat`` timed verifications by each verifier, into ``pb.kernel.times_us`` / ``pb.py.times_us``."""
    if pb.kernel is not None:
        import kernel_loader

        r = kernel_loader.load(program, log_level=log_level, repeat=repeat)
        pb.kernel.times_us = [float(x) for x in r.verify_us]
        if r.verdict != pb.kernel.verdict:
            pb.kernel.note = f"verdict at log level {log_level} was {r.verdict}, at level 2 {pb.kernel.verdict}"
    runner = runner or InProcess()
    times: list[float] = []
    deadline = time.monotonic() + budget if budget else None
    # No gc.collect() here: a full collection empties the interpreter's free lists, and the
    # verifications after it ran slower (the first by ~70%, the next ones by a few percent:
    # measured 2026-11-23); verify leaves no cyclic garbage (tests/test_verifier_gc.py), so
    # the collector has nothing of the previous programs to catch up with during the timing.
    for _ in range(repeat):
        left = (deadline - time.monotonic()) if deadline else None
        if left is not None and left <= 0:
            pb.py.note = f"stopped after {len(times)} of {repeat} repetitions: time budget"
            break
        r = _py_verify(runner, program, log_level, left)
        if isinstance(r, str):
            pb.py.note = f"stopped after {len(times)} of {repeat} repetitions: {r}"
            break
        if r.verdict != pb.py.verdict:
            pb.py.note = f"verdict at log level {log_level} was {r.verdict}, at level 2 {pb.py.verdict}"
        times.extend(r.verify_us)
    pb.py.times_us = times


def memory_pass(program: Program, pb: ProgramBench, log_level: int, budget: float | None) -> None:
    from .bench_memory import measure

    try:
        with time_budget(budget):
            pb.memory = measure(program, log_level)
    except BudgetExceeded as e:
        pb.memory = {"peak_bytes": None, "parts": {}, "error": f"pyverifier {e}"}
