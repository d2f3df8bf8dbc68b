"""Run a corpus through the chosen verifiers into a run directory.

Layout of a run directory (docs/ARCHITECTURE.md):
  run.json                        environment, options, corpus, timings
  programs.jsonl                  the corpus as run (Program records)
  corpus_errors.json              entries of the corpus that could not be read
  results.jsonl                   one Result per line, appended as results arrive (resume source)
  results.csv / results.parquet   the same, as a table (one row per program and verifier)
  comparison.csv / .parquet       one row per program: both verdicts and the class
  logs/<kind>/<program>.log       full verifier logs
  report/index.html               the HTML report

Results are appended and flushed as they arrive, so a killed run resumes
where it stopped (``resume=True``, the default when the directory holds the
same corpus): pairs already in results.jsonl are not run again, and the
tables are rebuilt from results.jsonl, last row per pair winning.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from pyverifier.insn import decode
from pyverifier.program import Program
from pyverifier.result import ERROR, Result
from reports.paths import log_relpath

from . import environment
from .aggregate import aggregate
from .classify import NOT_MODELLED_CLASS, TOOL_ERROR, comparison_table
from .divergence import first_divergence
from .pool import TaskFailure, run_tasks
from .verifiers import VERIFIERS, matrix_series, verifier_label, warm_up

DEFAULT_TIMEOUT = 300.0
GUEST_LOG_LEVEL = 4  # kernel_loader.matrix.GUEST_LOG_LEVEL (not imported here: the matrix loads lazily)


@dataclass
class RunOptions:
    corpus: str = "builtin"
    verifiers: Sequence[str] = ("kernel", "pyverifier")
    repeat: int = 1
    jobs: int = 1
    log_level: int = 2
    timeout: float = DEFAULT_TIMEOUT
    resume: bool = True
    render: bool = True
    attach_check: bool = False  # attach accepted xdp/tc programs in a scratch netns and send packets
    guest_log_level: int = GUEST_LOG_LEVEL  # the QEMU kernels' (--kernels 6.1,...) log level: 4 is statistics and messages only
    extra: dict = field(default_factory=dict)


def _verify_task(arg: tuple[Program, str, int, int, bool]) -> dict:
    program, kind, log_level, repeat, attach = arg
    res = VERIFIERS[kind](program, log_level, repeat)
    if attach and kind == "kernel" and res.verdict == "accept":
        from kernel_loader.attach import ATTACHABLE, attach_check

        if program.prog_type in ATTACHABLE:
            res.attach_check = attach_check(program).summary
    return res.to_dict()


def _failure_result(program: Program, kind: str, reason: str, log_level: int) -> dict:
    return Result(
        program_id=program.id, verifier=verifier_label(kind), verdict=ERROR, message=reason, log_level=log_level
    ).to_dict()


def _row(result: dict, kind: str) -> dict:
    times = result.get("verify_us") or []
    row = {k: v for k, v in result.items() if k not in ("log", "verify_us", "stack_depth")}
    row["verifier_kind"] = kind
    row["stack_depth"] = "+".join(str(x) for x in result.get("stack_depth") or [])
    row["verify_us"] = json.dumps(times)
    row["verify_us_mean"] = statistics.fmean(times) if times else None
    row["verify_us_std"] = statistics.pstdev(times) if len(times) > 1 else (0.0 if times else None)
    row["verify_us_p95"] = _p95(times)
    row["log_path"] = log_relpath(kind, result["program_id"])
    return row


def _p95(xs: list[float]) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(0.95 * (len(s) - 1)))))
    return s[k]


# what one instruction costs each verifier, relative to the kernel (for ordering tasks only)
_KIND_WEIGHT = {"pyverifier": 6}
_INSN_LIMIT = 1_000_000


def _estimated_cost(program: Program) -> int:
    """Instructions a verifier may process on ``program``: its length, or the limit when it loops.

    A program with a backward jump can run up to the instruction limit however short it is.
    """
    n = program.insn_count
    if n >= _INSN_LIMIT // 8:
        return n
    try:
        insns = decode(program.insns)
    except ValueError:
        return n
    for ins in insns:
        cls = ins.code & 7
        if ins.off < 0 and (cls == 5 or cls == 6) and (ins.code >> 4) not in (8, 9):  # not call/exit
            return _INSN_LIMIT
    return n


def _longest_first(tasks: list) -> list:
    """Tasks ordered by their estimated cost, largest first, so no long task starts last and runs alone."""
    cost: dict[str, int] = {}

    def key(task) -> int:
        program, kind = task[1][0], task[1][1]
        if program.id not in cost:
            cost[program.id] = _estimated_cost(program)
        return -cost[program.id] * _KIND_WEIGHT.get(kind, 1)

    return sorted(tasks, key=key)


def _compare_logs(kernel_log: str, py_log: str, insns_b: bytes) -> dict | None:
    try:
        insns = decode(insns_b)
    except ValueError:
        insns = None
    div = first_divergence(kernel_log, py_log, insns)
    return None if div is None else div.to_dict()


def _divergence_task(arg: tuple[str, str, bytes]) -> dict | None:
    kernel_log, py_log, insns_b = arg
    return _compare_logs(Path(kernel_log).read_text(errors="replace"), Path(py_log).read_text(errors="replace"),
                         insns_b)


class _EarlyComparisons:
    """Log comparisons made in the parent while the pool runs, as soon as both logs of a program arrived.

    The parent mostly waits on the workers; comparing there saves reading every
    log back from disk after the pool. Only programs in ``both_pending`` (both
    verifiers still to run) are compared here; a log waits in memory for its partner
    up to ``budget`` characters in all, beyond that its program is compared after the pool.
    """

    KINDS = ("kernel", "pyverifier")

    def __init__(self, by_id: dict[str, Program], both_pending: set[str], budget: int = 1 << 29):
        self.by_id = by_id
        self.both_pending = both_pending
        self.budget = budget
        self.waiting: dict[str, tuple[str, str]] = {}  # program id -> (kind, log) of the first log to arrive
        self.held = 0
        self.results: dict[str, dict | None | TaskFailure] = {}

    def add(self, pid: str, kind: str, log: str) -> None:
        if kind not in self.KINDS or pid not in self.both_pending:
            return
        first = self.waiting.pop(pid, None)
        if first is None:
            if self.held + len(log) <= self.budget:
                self.waiting[pid] = (kind, log)
                self.held += len(log)
            return
        self.held -= len(first[1])
        if first[0] == kind:  # the same verifier again (not expected): keep the newer log
            self.add(pid, kind, log)
            return
        logs = {first[0]: first[1], kind: log}
        try:
            self.results[pid] = _compare_logs(logs["kernel"], logs["pyverifier"], self.by_id[pid].insns)
        except Exception as e:  # noqa: BLE001 - a failed comparison is a signature, not a lost run
            self.results[pid] = TaskFailure(f"exception: {type(e).__name__}: {e}")


def _with_divergences(out: Path, programs: list[Program], comp: pd.DataFrame, jobs: int = 1,
                      timeout: float = DEFAULT_TIMEOUT,
                      known: dict[str, dict | None | TaskFailure] | None = None) -> pd.DataFrame:
    """Add where the kernel's and pyverifier's logs first differ, and a signature to group by.

    ``known`` holds comparisons already made (``_EarlyComparisons``); the others are
    made in ``jobs`` worker processes from the log files: the logs of programs near the
    instruction limit are tens of megabytes each.
    """
    known = known or {}
    by_id = {p.id: p for p in programs}
    rows: dict[str, dict] = {}
    tasks = []
    made: list[tuple[str, dict | None | TaskFailure]] = []
    not_modelled_msg: dict[str, str] = {}
    for pid, cls, py_msg in zip(comp["program_id"], comp["class"], comp.get("py_message", [""] * len(comp))):
        rows[pid] = {"program_id": pid, "logs_identical": False}
        kp, pp = out / log_relpath("kernel", pid), out / log_relpath("pyverifier", pid)
        if cls == TOOL_ERROR or not (kp.exists() and pp.exists()):
            rows[pid]["signature"] = "tool error" if cls == TOOL_ERROR else ""
            continue
        if cls == NOT_MODELLED_CLASS:
            not_modelled_msg[pid] = str(py_msg)
        if pid in known:
            made.append((pid, known[pid]))
        else:
            tasks.append((pid, (str(kp), str(pp), by_id[pid].insns)))
    tasks.sort(key=lambda t: -(os.path.getsize(t[1][0]) + os.path.getsize(t[1][1])))  # longest logs first
    for pid, div in [*made, *run_tasks(_divergence_task, tasks, jobs=jobs, timeout=timeout)]:
        row = rows[pid]
        if isinstance(div, TaskFailure):
            row["signature"] = f"log comparison failed: {div.reason.splitlines()[0]}"
        elif div is None:
            row["logs_identical"] = True
            row["signature"] = ""
        else:
            row.update(div)
        if pid in not_modelled_msg:
            row["signature"] = not_modelled_msg[pid]
    if not rows:
        return comp.assign(logs_identical=pd.Series(dtype=bool), signature=pd.Series(dtype=str))
    return comp.merge(pd.DataFrame([rows[pid] for pid in comp["program_id"]]), on="program_id", how="left")


class Progress:
    """One line per finished program on a pipe; a rewriting status line on a terminal."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()

    def step(self, text: str) -> None:
        self.done += 1
        el = time.monotonic() - self.t0
        msg = f"[{self.done}/{self.total} {el:5.1f}s] {text}"
        if self.tty:
            self.stream.write("\r\x1b[K" + msg[:150])
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(msg + "\n")
        self.stream.flush()


def _read_done(results_path: Path) -> dict[tuple[str, str], dict]:
    done: dict[tuple[str, str], dict] = {}
    if not results_path.exists():
        return done
    with results_path.open() as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill: that pair runs again
            done[(row["program_id"], row["verifier_kind"])] = row
    return done


def run(
    programs: list[Program],
    out: Path,
    options: RunOptions,
    corpus_errors: Sequence[object] = (),
    kernel_unavailable: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Verify every program with every verifier into ``out``; return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    programs_path = out / "programs.jsonl"
    corpus_text = "".join(p.to_json() + "\n" for p in programs)
    results_path = out / "results.jsonl"
    if results_path.exists() and (not options.resume or not programs_path.exists()
                                  or programs_path.read_text() != corpus_text):
        # a different corpus or no resume: start this directory afresh
        results_path.unlink()
    programs_path.write_text(corpus_text)
    (out / "corpus_errors.json").write_text(json.dumps([str(e) for e in corpus_errors], indent=1))
    done = _read_done(results_path)

    by_id = {p.id: p for p in programs}
    tasks = []
    skipped_kernel: list[tuple[Program, str]] = []
    matrix_pending: dict[str, list[Program]] = {}  # "kernel-6.1" -> programs still to verify there
    for p in programs:
        for kind in options.verifiers:
            if (p.id, kind) in done:
                continue
            if matrix_series(kind) is not None:
                matrix_pending.setdefault(kind, []).append(p)
                continue
            if kind == "kernel" and kernel_unavailable:
                skipped_kernel.append((p, kind))
                continue
            tasks.append(((p.id, kind), (p, kind, options.log_level, options.repeat, options.attach_check)))

    tasks = _longest_first(tasks)
    if any(p.attach_to for p in programs) and any(k == "kernel" or k == "kernel_unpriv" for k in options.verifiers):
        try:  # index vmlinux BTF once, before the workers fork, not once per worker
            from kernel_loader.vmlinux import vmlinux_index

            vmlinux_index()
        except OSError:
            pass
    if any(t[1][1] == "pyverifier" for t in tasks):
        warm_up()
    bar = Progress(len(tasks) + len(skipped_kernel) + sum(map(len, matrix_pending.values())))
    matrix_stats: dict[str, dict] = {}
    t_run = time.monotonic()
    pending = {}
    for (pid, kind), _ in tasks:
        pending.setdefault(pid, set()).add(kind)
    early = _EarlyComparisons(by_id, {pid for pid, kinds in pending.items() if kinds >= set(_EarlyComparisons.KINDS)})
    with results_path.open("a") as rf:
        def record(pid: str, kind: str, res: dict) -> None:
            log = res.get("log") or ""
            lp = out / log_relpath(kind, pid)
            lp.parent.mkdir(parents=True, exist_ok=True)
            lp.write_text(log)
            early.add(pid, kind, log)
            row = _row(res, kind)
            rf.write(json.dumps(row) + "\n")
            rf.flush()
            done[(pid, kind)] = row
            bar.step(f"{pid} {kind}={row['verdict']}" + (f" ({row['message'][:60]})" if row["verdict"] != "accept" and row["message"] else ""))

        for p, kind in skipped_kernel:
            record(p.id, kind, _failure_result(p, kind, f"kernel not available: {kernel_unavailable}", options.log_level))
        for (pid, kind), out_ in run_tasks(_verify_task, tasks, jobs=options.jobs, timeout=options.timeout):
            if isinstance(out_, TaskFailure):
                out_ = _failure_result(by_id[pid], kind, f"{kind} failed: {out_.reason}", options.log_level)
            record(pid, kind, out_)
        if matrix_pending:
            # after the pool (no fork while threads run); one QEMU boot per kernel, the kernels side by side
            from concurrent.futures import ThreadPoolExecutor

            from kernel_loader.matrix import BatchStats, verify_batch

            def one_kernel(kind: str):
                st = BatchStats()
                res = verify_batch(matrix_series(kind), matrix_pending[kind], log_level=options.guest_log_level, stats=st,
                                   repeat=options.repeat)
                return kind, res, st

            with ThreadPoolExecutor(max_workers=max(1, min(len(matrix_pending), options.jobs))) as ex:
                for kind, res, st in ex.map(one_kernel, list(matrix_pending)):
                    matrix_stats[kind] = {"release": st.release, "boots": st.boots, "log_level": options.guest_log_level,
                                          "boot_seconds": [round(x, 3) for x in st.boot_seconds]}
                    for p, r in zip(matrix_pending[kind], res):
                        record(p.id, kind, r.to_dict())
        os.fsync(rf.fileno())
    elapsed = time.monotonic() - t_run

    results = pd.DataFrame(list(done.values()))
    results = results[results["program_id"].isin(by_id)]
    prog_df = pd.DataFrame(
        [
            {
                "program_id": p.id,
                "name": p.name,
                "source": p.source,
                "prog_type": Program.to_dict(p)["prog_type"],
                "tags": ",".join(p.tags),
                "insn_count": p.insn_count,
                "expect_verdict": p.expect.verdict,
            }
            for p in programs
        ]
    )
    comp = comparison_table(results, prog_df)
    # before any Parquet write: the comparison forks workers, which is safest before pyarrow starts threads
    comp = _with_divergences(out, programs, comp, jobs=options.jobs, timeout=options.timeout, known=early.results)
    results.to_csv(out / "results.csv", index=False)
    results.to_parquet(out / "results.parquet", index=False)
    comp.to_csv(out / "comparison.csv", index=False)
    comp.to_parquet(out / "comparison.parquet", index=False)
    comp.to_json(out / "comparison.json", orient="records", indent=1)
    summary = aggregate(comp)

    env = environment.describe()
    run_info = {
        "started": started,
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        **env,
        "corpus": options.corpus,
        "program_count": len(programs),
        "corpus_error_count": len(corpus_errors),
        "verifiers": [verifier_label(k) for k in options.verifiers],
        "verifier_kinds": list(options.verifiers),
        "kernel_unavailable": kernel_unavailable,
        "kernel_matrix": matrix_stats,
        "repeat": options.repeat,
        "options": {
            "jobs": options.jobs,
            "log_level": options.log_level,
            "guest_log_level": options.guest_log_level,
            "attach_check": options.attach_check,
            "timeout_s": options.timeout,
            **options.extra,
        },
        "class_counts": comp["class"].value_counts().to_dict(),
        "summary": summary,
    }
    (out / "run.json").write_text(json.dumps(run_info, indent=2))
    if options.render:
        from reports import render

        render(out)
    return out
