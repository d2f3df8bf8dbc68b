"""``verifier-diff bench``: the performance benchmarks of pyverifier against the kernel's verifier.

For every program of the corpus (see ``compare.bench_measure`` for the passes):
verdicts and statistics of both verifiers, ``--repeat`` timed verifications of
each on the programs they agree on, pyverifier's peak memory; then
microbenchmarks of pyverifier's core operations. The results go to
``OUT/bench.json`` and ``OUT/bench.html`` (with plots) and, as a table, to the
terminal (``--json`` prints the JSON instead).

Sections (``compare.bench_aggregate``): verification time by size class and
by instruction type (kernel as baseline, ratio and percentage), the distance
to the seed's Rust verifier figures, core operations, memory with the fitted
``base + insns x B + states x S``, pruning, and the excluded programs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import environment
from .bench_aggregate import COMPARABLE, INSN_TYPE_GROUPS, RUST_BAR_US, TARGET_RATIO, aggregate
from .classify import SIZE_CLASSES

SCHEMA = "verifier-diff-bench/1"
DEFAULT_REPEAT = 10
DEFAULT_BUDGET_S = 60.0
DEFAULT_MICRO_ROUNDS = 30
# the warm-up verifies each program once, stopped after this long: a JIT needs the common paths
# compiled, and the few programs that take seconds would only make the warm-up long
WARM_UP_BUDGET_S = 2.0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="verifier-diff bench",
        description="Benchmark pyverifier against the kernel's verifier: time by size class and instruction "
                    "type, core operations, memory, pruning. Writes OUT/bench.json and OUT/bench.html.",
    )
    ap.add_argument("--corpus", default="builtin",
                    help="'builtin', a .jsonl file of Program records, a .s file or a directory (default builtin)")
    ap.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                    help=f"timed verifications per program and verifier (default {DEFAULT_REPEAT})")
    ap.add_argument("--out", help="output directory (default runs/bench-<timestamp>)")
    ap.add_argument("--json", action="store_true", help="print bench.json to stdout instead of the table")
    k = ap.add_mutually_exclusive_group()
    k.add_argument("--include-kernel", dest="kernel", action="store_true", default=True,
                   help="measure the kernel's verifier too (default; skipped with a note if bpf() is unavailable)")
    k.add_argument("--no-kernel", dest="kernel", action="store_false", help="pyverifier alone")
    ap.add_argument("--log-level", type=int, default=0, choices=(0, 1, 2),
                    help="log level of the timed runs, the same for both verifiers (default 0: statistics "
                         "only, as a load without a log buffer plus the kernel's timing line)")
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S,
                    help=f"seconds allowed per program for each pyverifier pass (default {DEFAULT_BUDGET_S:g}; "
                         "0 = no limit)")
    ap.add_argument("--micro-rounds", type=int, default=DEFAULT_MICRO_ROUNDS,
                    help=f"rounds of each core-operation microbenchmark (default {DEFAULT_MICRO_ROUNDS})")
    ap.add_argument("--python", default="auto", metavar="auto|inprocess|PATH",
                    help="the interpreter that runs pyverifier for the stats and timed passes: 'auto' (default) "
                         "is pypy3 when installed, with its JIT tuned for pyverifier and warmed by one pass over "
                         "the corpus, else this Python in-process; 'inprocess'; or the path of a Python 3.9+ "
                         "or PyPy executable (the memory pass and the core operations always run in-process)")
    ap.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                    help="no warm-up pass before the measurements when pyverifier runs under a JIT")
    ap.add_argument("--filter", help="only programs whose id contains this text")
    ap.add_argument("--no-micro", action="store_true", help="skip the core-operation microbenchmarks")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    ap.add_argument("--no-html", action="store_true", help="do not write bench.html")
    return ap


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def open_runner(python: str):
    """The pyverifier runner ``--python`` names (see ``build_parser``)."""
    from .pyworker import InProcess, PyWorker, find_pypy

    if python == "inprocess":
        return InProcess()
    if python == "auto":
        python = find_pypy()
        if python is None:
            return InProcess()
    return PyWorker(python)


def runtime_info(runner, warm_up_s: float | None) -> dict:
    """How pyverifier was run, for bench.json: its interpreter and the JIT's warm-up."""
    env_python = f"{platform.python_implementation()} {platform.python_version()}"
    if runner.info is None:
        return {"mode": "in-process", "interpreter": env_python, "command": None, "warm_up_s": None}
    i = runner.info
    return {"mode": "worker process", "interpreter": f"{i['implementation']} {i['version']}",
            "build": i.get("build"), "command": i.get("command"), "warm_up_s": warm_up_s,
            "restarts": getattr(runner, "restarts", 0),
            "in_process": f"memory pass and core operations: {env_python} in-process"}


def warm_up(runner, programs, log_level: int, budget: float | None) -> tuple[float | None, dict]:
    """One verification of every program at the timed log level, not counted in the timings, so
    that a JIT has compiled pyverifier's paths before anything is timed. Returns the seconds taken
    (None: not a JIT, no warm-up) and each program's time in that pass (its first verification at
    that level, while the JIT was still compiling), by program id."""
    from .bench_measure import _py_verify

    firsts: dict[str, float] = {}
    if runner.info is None or runner.info.get("implementation") != "PyPy":
        return None, firsts
    t0 = time.monotonic()
    n = len(programs)
    _progress(f"warming up {runner.info['implementation']}'s JIT: one pass over {n} programs at log level "
              f"{log_level} (not measured) ...")
    budget = min(budget or WARM_UP_BUDGET_S, WARM_UP_BUDGET_S)
    for i, p in enumerate(programs, 1):
        r = _py_verify(runner, p, log_level, budget)
        if not isinstance(r, str) and r.verify_us:
            firsts[p.id] = r.verify_us[0]
        if i % 200 == 0 or i == n:
            _progress(f"[warm-up {i}/{n} {time.monotonic() - t0:6.1f}s]")
    return round(time.monotonic() - t0, 3), firsts


def run_bench(programs, args, kernel_reason: str | None, corpus_errors=()) -> dict:
    """Measure ``programs`` as ``args`` says; return the bench.json document."""
    from .pyworker import InProcess, WorkerError

    python = getattr(args, "python", "inprocess")
    try:
        runner = open_runner(python)
    except WorkerError as e:
        if python != "auto":
            raise
        _progress(f"verifier-diff bench: {e}; measuring pyverifier in-process instead")
        runner = InProcess()
    try:
        return _run_bench(programs, args, kernel_reason, corpus_errors, runner)
    finally:
        runner.close()


def _run_bench(programs, args, kernel_reason, corpus_errors, runner) -> dict:
    from .bench_measure import memory_pass, stats_pass, time_pass

    with_kernel = bool(args.kernel) and kernel_reason is None
    budget = args.budget or None
    load_start = _loadavg()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    warm_s, firsts = (warm_up(runner, programs, args.log_level, budget) if getattr(args, "warm_up", True)
                      else (None, {}))
    rows = []
    n = len(programs)
    for i, p in enumerate(programs, 1):
        pb = stats_pass(p, with_kernel, budget, runner)
        pb.py.warm_up_us = firsts.get(p.id)
        timed = pb.cls in COMPARABLE if with_kernel else pb.py.verdict in ("accept", "reject")
        if timed:
            time_pass(p, pb, args.repeat, args.log_level, budget, runner)
        if not args.no_memory and pb.py.verdict in ("accept", "reject"):
            memory_pass(p, pb, args.log_level, budget)
        rows.append(pb.to_dict())
        _progress(f"[{i}/{n} {time.monotonic() - t0:6.1f}s] {p.id}: {pb.cls}"
                  + (f", kernel {_fmt_us(_med(pb.kernel.times_us))} pyverifier {_fmt_us(_med(pb.py.times_us))}"
                     if timed and pb.kernel else (f", pyverifier {_fmt_us(_med(pb.py.times_us))}" if timed else "")))
    micro = []
    if not args.no_micro:
        from .bench_micro import run_micro

        _progress("core operations ...")
        micro = run_micro(args.micro_rounds)
    agg = aggregate(rows, with_kernel)
    env = environment.describe()
    kernel_release = platform.release()
    return {
        "schema": SCHEMA,
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - t0, 3),
        "command": "verifier-diff bench " + " ".join(getattr(args, "argv", []) or []),
        "environment": env,
        "pyverifier_runtime": runtime_info(runner, warm_s),
        "load_average": {"start": load_start, "end": _loadavg(),
                         "note": "1/5/15-minute load averages; timings on a busy machine are inflated"},
        "kernel": {"release": kernel_release, "measured": with_kernel,
                   "unavailable": kernel_reason if args.kernel else "not requested (--no-kernel)"},
        "options": {
            "corpus": args.corpus,
            "repeat": args.repeat,
            "log_level": args.log_level,
            "budget_s": args.budget,
            "micro_rounds": args.micro_rounds,
            "filter": args.filter,
        },
        "corpus_errors": [str(e) for e in corpus_errors],
        "size_classes": {"simple": "< 100 insns", "medium": "100-999", "complex": "1000-9999",
                         "maximum": ">= 10000 (near the limits)"},
        "rust_bar_us": RUST_BAR_US,
        **agg,
        "micro": micro,
        "programs": rows,
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _med(xs):
    from .bench_stats import summary

    return summary(xs or [])["median"]


def _fmt_us(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    if v < 1000:
        return f"{v:.1f} us" if v < 100 else f"{v:.0f} us"
    if v < 1_000_000:
        return f"{v / 1000:.2f} ms"
    return f"{v / 1e6:.2f} s"


def _fmt_x(v) -> str:
    return "-" if v is None else (f"{v:.2f}x" if v < 100 else f"{v:.0f}x")


def _fmt_bytes(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return str(v)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def _stat_cells(s: dict) -> list[str]:
    if not s or not s.get("n"):
        return ["-", "-", "-"]
    return [_fmt_us(s["median"]), f"{_fmt_us(s['mean'])} ± {_fmt_us(s['std'])}", _fmt_us(s["p95"])]


def _time_rows(groups: dict, names) -> list[list[str]]:
    rows = []
    for name in names:
        g = groups[name]
        if not g["programs"]:
            rows.append([name, "0", "-", "-", "-", "-", "-", "-", "-", "-", "-"])
            continue
        pct = g.get("pct")
        rows.append([name, str(g["programs"]), f"{g['kernel_iterations']}/{g['py_iterations']}",
                     *_stat_cells(g["kernel_us"]), *_stat_cells(g["py_us"]), _fmt_x(g["ratio_median"]),
                     "-" if pct is None else f"{pct:,.0f}%"])
    return rows


_TIME_HEADERS = ["group", "progs", "iters k/py", "kernel median", "kernel mean ± std", "kernel P95",
                 "py median", "py mean ± std", "py P95", "py/kernel", "py % of kernel"]


def runtime_line(rt: dict) -> str:
    """One line on how pyverifier ran (bench.json's ``pyverifier_runtime``)."""
    if rt.get("mode") == "in-process":
        return f"pyverifier: in-process, {rt.get('interpreter')}"
    line = f"pyverifier: {rt.get('interpreter')} in a worker process ({rt.get('command')})"
    if rt.get("warm_up_s") is not None:
        line += f", JIT warmed up by one unmeasured pass over the corpus ({rt['warm_up_s']:.1f} s)"
    if rt.get("restarts"):
        line += f", worker restarted {rt['restarts']} times"
    return line + f"; {rt.get('in_process')}"


def format_report(doc: dict) -> str:
    """The terminal view of a bench.json document."""
    env = doc.get("environment") or {}
    host = env.get("host") or {}
    pk = env.get("packages") or {}
    opts = doc.get("options") or {}
    kern = doc.get("kernel") or {}
    out = []
    out.append(f"verifier-diff bench, {doc.get('started')} ({doc.get('elapsed_s')} s)")
    out.append(f"host: {host.get('cpu_model')}, {host.get('cpu_count')} CPUs, "
               f"{_fmt_bytes(host.get('mem_total_bytes'))} RAM; kernel {kern.get('release')}; "
               f"Python {env.get('python')}; " + ", ".join(f"{k} {v}" for k, v in pk.items() if v))
    rt = doc.get("pyverifier_runtime") or {}
    if rt:
        out.append(runtime_line(rt))
    la = doc.get("load_average") or {}
    if la.get("start"):
        out.append(f"load average at start {la['start']}, at end {la.get('end')} ({host.get('cpu_count')} CPUs)")
    out.append(f"corpus {opts.get('corpus')}, {opts.get('repeat')} repetitions per program and verifier, "
               f"log level {opts.get('log_level')}"
               + ("" if kern.get("measured") else f"; kernel NOT measured: {kern.get('unavailable')}"))
    c = doc.get("counts") or {}
    out.append(f"programs: {c.get('programs')}, compared: {c.get('compared')}, excluded: {c.get('excluded')}")
    ov = doc.get("overall") or {}
    tg = doc.get("target") or {}
    if ov.get("ratio_median") is not None:
        out.append(f"overall: median pyverifier/kernel ratio {_fmt_x(ov['ratio_median'])} over {ov['programs']} "
                   f"programs at log level {opts.get('log_level')} "
                   f"(target <= {TARGET_RATIO:g}x: {'met' if tg.get('met') else 'NOT met'} at this level)")
    if ov.get("warm_up_ratio_median") is not None:
        out.append(f"         the warm-up pass (each program's first verification, the JIT still compiling): "
                   f"median ratio {_fmt_x(ov['warm_up_ratio_median'])}")
    out.append("")
    out.append("Verification time by size class (per program: median of its repetitions; kernel = baseline)")
    out.append(_table(_TIME_HEADERS, _time_rows(doc["time_by_size_class"], SIZE_CLASSES)))
    out.append("")
    it = doc["time_by_insn_type"]
    out.append("Verification time by instruction type (corpus tags: "
               + "; ".join(f"{g} = {'/'.join(t)}" for g, t in INSN_TYPE_GROUPS) + ")")
    out.append(_table(_TIME_HEADERS, _time_rows(it["groups"], [g for g, _ in INSN_TYPE_GROUPS])))
    if it["empty"]:
        out.append(f"empty groups (no compared program carries their tags): {', '.join(it['empty'])}")
    out.append("")
    out.append("Distance to the seed's Rust verifier figures (median per size class)")
    rows = []
    for sc, r in doc["rust_bar"].items():
        rows.append([sc, _fmt_us(r["rust_us"]), str(r["programs"]), _fmt_us(r["py_median_us"]),
                     _fmt_x(r["py_over_rust"]), _fmt_us(r["kernel_median_us"]), _fmt_x(r["kernel_over_rust"])])
    out.append(_table(["class", "Rust", "progs", "pyverifier", "py/Rust", "kernel", "kernel/Rust"], rows))
    if doc.get("micro"):
        out.append("")
        out.append("Core operations (pyverifier, per call)")
        rows = []
        for m in doc["micro"]:
            if not m["available"]:
                note = m["note"] if len(m["note"]) <= 90 else m["note"][:87] + "..."
                rows.append([f"{m['group']}: {m['name']}", "-", "-", "-", "-", note])
                continue
            s = m["ns"]
            rows.append([f"{m['group']}: {m['name']}", f"{m['iterations']:,}", _fmt_us(s["median"] / 1000),
                         f"{_fmt_us(s['mean'] / 1000)} ± {_fmt_us(s['std'] / 1000)}", _fmt_us(s["p95"] / 1000),
                         m["note"][:90]])
        out.append(_table(["operation", "iterations", "median", "mean ± std", "P95", "note"], rows))
    mem = doc.get("memory") or {}
    if mem.get("programs"):
        out.append("")
        out.append(f"Memory (pyverifier peak per program, tracemalloc; {mem['programs']} programs)")
        rows = []
        for sc in SIZE_CLASSES:
            g = mem["by_size_class"][sc]
            pb = g["peak_bytes"]
            rows.append([sc, str(g["programs"]), _fmt_bytes(pb["median"]), _fmt_bytes(pb["mean"]),
                         _fmt_bytes(pb["p95"]), _num(g["py_peak_states"]["median"]),
                         _num(g["kernel_peak_states"]["median"]), _num(g["kernel_total_states"]["median"])])
        out.append(_table(["class", "progs", "peak median", "peak mean", "peak P95", "py peak_states med",
                           "kernel peak_states med", "kernel total_states med"], rows))
        out.append("parts at the end of a run (median): " + ", ".join(
            f"{nm} {_fmt_bytes(v['bytes']['median'])}" for nm, v in mem["parts"].items()))
        out.append("fit: " + mem["fit"]["formula"])
    pr = doc.get("pruning") or {}
    if pr:
        out.append("")
        out.append("Pruning (compared programs; pruned = paths ended by an equivalent explored state; "
                   "saved = pruned / (pruned + states))")
        rows = []
        for sc in SIZE_CLASSES:
            g = pr[sc]
            if not g["programs"]:
                continue
            k, p = g["kernel"], g["py"]
            rows.append([sc, str(g["programs"]), _num(k["insns_processed"]), _num(k["total_states"]),
                         _num(k["pruned"]), _pct(k["share_saved"]), _num(p["insns_processed"]),
                         _num(p["total_states"]), _num(p["pruned"]), _pct(p["share_saved"])])
        out.append(_table(["class", "progs", "k insns", "k states", "k pruned", "k saved", "py insns", "py states",
                           "py pruned", "py saved"], rows))
    ex = doc.get("excluded") or []
    if ex:
        out.append("")
        out.append(f"Excluded from the time comparison ({len(ex)}):")
        for e in ex[:40]:
            out.append(f"  {e['id']}: {e['reason']}")
        if len(ex) > 40:
            out.append(f"  ... and {len(ex) - 40} more (bench.json)")
    return "\n".join(out)


def _num(v) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` to the ``verifier-diff`` sub-commands (same options as :func:`main`)."""
    parser = build_parser()
    p = subparsers.add_parser("bench", parents=[parser], add_help=False, help=parser.description,
                              description=parser.description)
    p.set_defaults(fn=run_args)
    return p


def main(argv: list[str] | None = None) -> int:
    """``verifier-diff bench`` on its own: parse ``argv`` (default: the command line) and run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    return run_args(args)


def run_args(args: argparse.Namespace) -> int:
    """Run the benchmark as parsed ``args`` say; print the table (or JSON); return the exit status."""
    if not getattr(args, "argv", None):
        args.argv = sys.argv[2:] if len(sys.argv) > 1 and sys.argv[1] == "bench" else sys.argv[1:]
    if args.repeat < 1:
        print("verifier-diff bench: --repeat must be at least 1", file=sys.stderr)
        return 2
    from selftests.corpus import load_corpus

    programs, errors = load_corpus(args.corpus)
    for e in errors:
        print(f"verifier-diff bench: corpus: {e}", file=sys.stderr)
    if args.filter:
        programs = [p for p in programs if args.filter in p.id]
    if not programs:
        print(f"verifier-diff bench: corpus {args.corpus!r} holds no program to measure", file=sys.stderr)
        return 2
    reason = None
    if args.kernel:
        from kernel_loader import bpf_status

        ok, why = bpf_status()
        if not ok:
            reason = why
            print(f"verifier-diff bench: the kernel verifier cannot be used: {why} Measuring pyverifier alone.",
                  file=sys.stderr)
    out = Path(args.out) if args.out else Path("runs") / dt.datetime.now().strftime("bench-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    from .pyworker import WorkerError

    try:
        doc = run_bench(programs, args, reason, errors)
    except WorkerError as e:
        print(f"verifier-diff bench: --python {args.python}: {e}", file=sys.stderr)
        return 2
    (out / "bench.json").write_text(json.dumps(doc, indent=1))
    html = None
    if not args.no_html:
        from reports.bench_page import render

        html = render(out, doc)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(format_report(doc))
        print(f"\nbench.json: {(out / 'bench.json').resolve()}")
        if html:
            print(f"bench.html: {html.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
