"""The ``verifier-diff`` command line."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from pyverifier.program import Program

from .runner import DEFAULT_TIMEOUT, GUEST_LOG_LEVEL, RunOptions, run


def _load(spec: str):
    from selftests.corpus import load_corpus

    programs, errors = load_corpus(spec)
    for e in errors:
        print(f"verifier-diff: corpus: {e}", file=sys.stderr)
    return programs, errors


def _kernel_unavailable(kinds) -> str | None:
    if "kernel" not in kinds:
        return None
    from kernel_loader import bpf_status

    ok, reason = bpf_status()
    return None if ok else reason


def _parse_verifiers(text: str) -> list[str]:
    from .verifiers import VERIFIERS

    kinds = [v.strip() for v in text.split(",") if v.strip()]
    bad = [k for k in kinds if k not in VERIFIERS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"unknown verifier(s) {bad}; choose from {', '.join(VERIFIERS)}")
    return kinds


def _parse_kernels(text: str) -> list[str]:
    """--kernels host,6.1,6.12 -> verifier kinds ["kernel", "kernel-6.1", "kernel-6.12"]."""
    import re

    kinds = []
    for k in (x.strip() for x in text.split(",")):
        if not k:
            continue
        if k == "host":
            kinds.append("kernel")
        elif re.fullmatch(r"\d+\.\d+", k):
            kinds.append(f"kernel-{k}")
        else:
            raise argparse.ArgumentTypeError(f"kernel {k!r}: use 'host' or a Debian kernel series such as 6.1 or 6.12")
    if not kinds:
        raise argparse.ArgumentTypeError("--kernels needs at least one of host, 6.1, 6.12, ...")
    return kinds


def _with_kernels(verifiers: list[str], kernels: list[str] | None) -> list[str]:
    """--kernels replaces the 'kernel' entry of --verifiers by the chosen kernels (host first as listed)."""
    if kernels is None:
        return verifiers
    out = [v for v in verifiers if v != "kernel"]
    return list(dict.fromkeys(kernels + out))


def cmd_run(args) -> int:
    args.verifiers = _with_kernels(args.verifiers, args.kernels)
    if args.unprivileged and "kernel_unpriv" not in args.verifiers:
        args.verifiers.append("kernel_unpriv")
    programs, errors = _load(args.corpus)
    if not programs:
        print(f"verifier-diff: corpus {args.corpus!r} holds no program that could be read", file=sys.stderr)
        return 2
    reason = _kernel_unavailable(args.verifiers)
    if reason:
        print(f"verifier-diff: the kernel verifier cannot be used: {reason} "
              "Running pyverifier alone; kernel rows are recorded as errors.", file=sys.stderr)
    out = Path(args.out) if args.out else Path("runs") / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    opts = RunOptions(
        corpus=args.corpus, verifiers=args.verifiers, repeat=args.repeat, jobs=args.jobs,
        log_level=args.log_level, timeout=args.timeout, resume=not args.no_resume, render=not args.no_report,
        attach_check=args.attach_check, guest_log_level=args.guest_log_level or GUEST_LOG_LEVEL,
    )
    print(f"verifier-diff: {len(programs)} programs x {len(args.verifiers)} verifiers -> {out}", file=sys.stderr)
    from contextlib import nullcontext

    from kernel_loader.unpriv import UnprivilegedUnavailable, unprivileged_bpf

    try:
        with unprivileged_bpf(True) if args.allow_unprivileged_bpf else nullcontext():
            run(programs, out, opts, corpus_errors=errors, kernel_unavailable=reason)
    except UnprivilegedUnavailable as e:
        print(f"verifier-diff: {e}", file=sys.stderr)
        return 2
    info = json.loads((out / "run.json").read_text())
    counts = info["class_counts"]
    print("classes: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"run directory: {out.resolve()}")
    if not args.no_report:
        print(f"report: {(out / 'report' / 'index.html').resolve()}")
    return 0


def cmd_verify(args) -> int:
    from .verifiers import VERIFIERS, matrix_series

    args.verifiers = _with_kernels(args.verifiers, args.kernels)
    programs, errors = _load(args.file)
    if errors and not programs:
        return 2
    if args.name:
        programs = [p for p in programs if args.name in (p.name, p.id)]
        if not programs:
            print(f"verifier-diff: no program named {args.name!r} in {args.file}", file=sys.stderr)
            return 2
    reason = _kernel_unavailable(args.verifiers)
    matrix = {}
    for kind in args.verifiers:
        if matrix_series(kind) is not None:
            from kernel_loader.matrix import verify_batch

            # one program's logs are what `verify` is for: full guest logs at --log-level unless asked otherwise
            level = args.guest_log_level or args.log_level
            matrix[kind] = {r.program_id: r.to_dict()
                            for r in verify_batch(matrix_series(kind), programs, log_level=level)}
    out = []
    for p in programs:
        results = {}
        for kind in args.verifiers:
            if kind in matrix:
                results[kind] = matrix[kind][p.id]
                continue
            if kind == "kernel" and reason:
                results[kind] = {"verdict": "error", "message": f"kernel not available: {reason}", "log": ""}
                continue
            results[kind] = VERIFIERS[kind](p, args.log_level, 1).to_dict()
        out.append((p, results))
    if args.json:
        print(json.dumps([{"program": p.to_dict(), "results": r} for p, r in out], indent=1))
        return 0
    for p, results in out:
        print(f"=== {p.id} ({Program.to_dict(p)['prog_type']}, {p.insn_count} insns)")
        for kind, r in results.items():
            msg = f": {r['message']}" if r.get("message") else ""
            print(f"  {kind:<12} {r['verdict']}{msg}")
        if args.logs:
            if set(results) == {"kernel", "pyverifier"} and not args.sequential:
                print(_side_by_side(p, results["kernel"].get("log", ""), results["pyverifier"].get("log", "")))
            else:
                for kind, r in results.items():
                    print(f"--- {kind} log")
                    print(r.get("log", "").rstrip())
    return 0


def _side_by_side(program: Program, klog: str, plog: str, width: int | None = None) -> str:
    """Both normalized logs in two columns; '!' marks the first line where they differ."""
    import shutil

    from .divergence import first_divergence, normalize

    insns = program.decoded()
    k, p = normalize(klog, insns, kernel=True), normalize(plog, insns)
    div = first_divergence(klog, plog, insns)
    total = width or shutil.get_terminal_size((200, 40)).columns
    col = max(30, (total - 3) // 2)
    out = [f"{'kernel':<{col}} | pyverifier", f"{'-' * col}-+-{'-' * col}"]
    for i in range(max(len(k), len(p))):
        kl = k[i] if i < len(k) else ""
        pl = p[i] if i < len(p) else ""
        mark = "!" if div is not None and i + 1 == div.line else ("|" if kl == pl else "~")
        out.append(f"{kl[:col]:<{col}} {mark} {pl[:col]}")
    if div is None:
        out.append("logs identical (map addresses and timing lines normalized)")
    else:
        where = f" at insn {div.insn}" if div.insn is not None else ""
        keys = f", differing {','.join(div.differing)}" if div.differing else ""
        out.append(f"first divergence: line {div.line}{where}{keys} [{div.signature}]")
    return "\n".join(out)


def cmd_report(args) -> int:
    from reports import render

    run_dir = Path(args.run)
    if not (run_dir / "run.json").exists():
        print(f"verifier-diff: {run_dir} is not a run directory (no run.json)", file=sys.stderr)
        return 2
    print(f"report: {render(run_dir).resolve()}")
    return 0


def cmd_diff(args) -> int:
    from . import rundiff

    try:
        table = rundiff.join_runs(Path(args.run_a), Path(args.run_b))
        shown = rundiff.apply_filters(table, args.filter or [])
        if args.sort:
            if args.sort not in shown.columns:
                raise rundiff.DiffError(f"cannot sort by unknown column {args.sort!r}")
            numeric = shown[args.sort].dtype.kind in "if"
            shown = shown.sort_values(args.sort, ascending=not numeric, key=(lambda c: c.abs()) if numeric else None)
        if args.top:
            shown = shown.head(args.top)
        failing = rundiff.gate(table, args.fail_on) if args.fail_on else table.iloc[0:0]
    except rundiff.DiffError as e:
        print(f"verifier-diff diff: {e}", file=sys.stderr)
        return 2
    if args.csv:
        shown.to_csv(args.csv, index=False)
    if args.json:
        print(shown.to_json(orient="records", indent=1))
    else:
        print(rundiff.format_table(shown))
        n_mis = int((table["verdict_diff"] == "MISMATCH").sum())
        print(f"\n{len(table)} rows joined, {n_mis} verdict mismatches, {len(shown)} shown")
    if len(failing):
        print(f"verifier-diff diff: {len(failing)} rows fail --fail-on {args.fail_on!r}: "
              + ", ".join(failing["program_id"].head(10)), file=sys.stderr)
        return 1
    return 0


def cmd_corpus_generate(args) -> int:
    from selftests.corpus import write_jsonl
    from selftests.generator import generate, summary

    if args.count < 0:
        print("verifier-diff: --count must be >= 0", file=sys.stderr)
        return 2
    programs = generate(args.seed, args.count)
    n = write_jsonl(programs, args.out)
    print(f"wrote {n} programs to {args.out}: {summary(programs)}")
    return 0


def cmd_yardsticks(args) -> int:
    from .yardsticks import main as yardsticks_main

    return yardsticks_main(args.run)


def cmd_corpus_list(args) -> int:
    programs, _ = _load(args.corpus)
    for p in programs:
        d = p.to_dict()
        if args.tag and args.tag not in p.tags:
            continue
        if args.prog_type and d["prog_type"] != args.prog_type:
            continue
        if args.source and p.source != args.source:
            continue
        exp = p.expect.verdict or "-"
        print(f"{p.id:<50} {d['prog_type']:<16} {p.insn_count:>6} {exp:<7} {','.join(p.tags)}")
    return 0


def cmd_corpus_show(args) -> int:
    from pyverifier.asm import disassemble

    programs, _ = _load(args.corpus)
    for p in programs:
        if args.name in (p.name, p.id):
            d = p.to_dict()
            d.pop("insns")
            d.pop("source_text", None)
            print(json.dumps(d, indent=1))
            print(disassemble(p.decoded(), [m.name for m in p.maps]))
            return 0
    print(f"verifier-diff: no program named {args.name!r}", file=sys.stderr)
    return 2


def cmd_corpus_import_kernel_selftests(args) -> int:
    from selftests.kernel_selftests import import_to_file

    return import_to_file(args.ksrc, args.out, args.cache, kptr=args.kptr_tags)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="verifier-diff", description=__doc__ or "verifier-diff")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def verifiers_arg(p):
        p.add_argument("--verifiers", type=_parse_verifiers, default=["kernel", "pyverifier"],
                       help="comma-separated: kernel,pyverifier (default both)")
        p.add_argument("--log-level", type=int, default=2, choices=(1, 2), help="verifier log level (default 2)")
        p.add_argument("--kernels", type=_parse_kernels, default=None,
                       help="kernels for the kernel verifier: host (the running one) and/or Debian series "
                            "booted under QEMU, e.g. host,6.1,6.12 (default: host)")
        p.add_argument("--guest-log-level", type=int, default=None, choices=(1, 2, 4),
                       help="log level of the QEMU kernels of --kernels: 4 (BPF_LOG_STATS alone, like veristat: "
                            "verdict, messages and statistics, no per-instruction trace; the default of run) or "
                            "1/2 for full guest logs (the default of verify: --log-level)")

    r = sub.add_parser("run", help="verify a corpus with every verifier into a run directory, report included")
    r.add_argument("--corpus", default="builtin",
                   help="'builtin', a .jsonl file of Program records, a .s file or a directory of them")
    r.add_argument("--out", help="run directory (default runs/<timestamp>)")
    verifiers_arg(r)
    r.add_argument("--repeat", type=int, default=1, help="verification repetitions per program, for timings")
    r.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers (default: CPU count)")
    r.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per program and verifier")
    r.add_argument("--unprivileged", action="store_true",
                   help="add a kernel_unpriv column: the running kernel loading without CAP_BPF and friends")
    r.add_argument("--allow-unprivileged-bpf", action="store_true",
                   help="set kernel.unprivileged_bpf_disabled to 0 for the run and restore it afterwards (root)")
    r.add_argument("--attach-check", action="store_true",
                   help="attach accepted xdp/tc programs to a veth pair in a scratch network namespace, send packets")
    r.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a partial run")
    r.add_argument("--no-report", action="store_true", help="do not render the HTML report")
    r.set_defaults(fn=cmd_run)

    v = sub.add_parser("verify", help="one file's programs through the verifiers, verdicts side by side")
    v.add_argument("file", help="a .s file, a .jsonl corpus, or 'builtin'")
    v.add_argument("--name", help="only the program with this name or id")
    verifiers_arg(v)
    v.add_argument("--logs", action="store_true",
                   help="print both logs side by side, the first divergence marked with '!'")
    v.add_argument("--sequential", action="store_true", help="with --logs: one log after the other, verbatim")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.set_defaults(fn=cmd_verify)

    rep = sub.add_parser("report", help="render the HTML report of a run directory again")
    rep.add_argument("run")
    rep.set_defaults(fn=cmd_report)

    d = sub.add_parser("diff", help="compare two run directories (veristat -C style); gate CI with --fail-on")
    d.add_argument("run_a", help="base run directory (A)")
    d.add_argument("run_b", help="comparison run directory (B)")
    d.add_argument("-f", "--filter", action="append",
                   help="verdict=mismatch | kind=kernel | prog=GLOB | STAT OP N, e.g. 'insns_pct>10' (repeatable)")
    d.add_argument("-s", "--sort", help="column to sort by, largest magnitude first (e.g. insns_pct)")
    d.add_argument("-n", "--top", type=int, help="show only the first N rows")
    d.add_argument("--fail-on", help="exit 1 if any row matches: 'verdict', 'insns_pct>20', comma-separated")
    d.add_argument("--csv", help="also write the shown rows as CSV to this file")
    d.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    d.set_defaults(fn=cmd_diff)

    y = sub.add_parser("yardsticks", help="the agreement figures the README reports, from run directories")
    y.add_argument("run", nargs="+")
    y.set_defaults(fn=cmd_yardsticks)

    c = sub.add_parser("corpus", help="list, show, import or generate corpus programs")
    csub = c.add_subparsers(dest="corpus_cmd", required=True)
    cl = csub.add_parser("list", help="one line per program")
    cl.add_argument("--corpus", default="builtin")
    cl.add_argument("--tag")
    cl.add_argument("--prog-type")
    cl.add_argument("--source")
    cl.set_defaults(fn=cmd_corpus_list)
    cs = csub.add_parser("show", help="a program's record and listing")
    cs.add_argument("name")
    cs.add_argument("--corpus", default="builtin")
    cs.set_defaults(fn=cmd_corpus_show)
    cg = csub.add_parser("generate", help="seeded random programs (mostly valid, bounds-heavy) as a .jsonl corpus")
    cg.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed and count give the same bytes")
    cg.add_argument("--count", type=int, default=100, help="number of programs (default 100)")
    cg.add_argument("--out", required=True, help="output .jsonl file (program ids gen-<seed>/<n>)")
    cg.set_defaults(fn=cmd_corpus_generate)

    from selftests.kernel_selftests import EPILOG as KSFT_EPILOG
    from selftests.kernel_selftests import add_arguments as ksft_arguments

    ck = csub.add_parser("import-kernel-selftests", epilog=KSFT_EPILOG,
                         help="the kernel's test_verifier tests of a kernel source tree as a JSON Lines corpus")
    ksft_arguments(ck)  # KSRC, --out FILE.jsonl, --cache DIR
    ck.set_defaults(fn=cmd_corpus_import_kernel_selftests)

    from selftests import kernel_progs

    kp = csub.add_parser("import-kernel-progs", epilog=kernel_progs.EPILOG,
                         help="the kernel's progs/verifier_*.c tests (clang, BTF decl tag annotations) of a "
                              "kernel source tree as a JSON Lines corpus")
    kernel_progs.add_arguments(kp)  # KSRC, --out FILE.jsonl, --cache, --clang, --jobs, --file
    kp.set_defaults(fn=kernel_progs.run)

    from selftests import elf as elf_import

    ce = csub.add_parser("import-elf", description=elf_import.DESCRIPTION,
                         help="programs of BPF ELF objects (clang -target bpf) as a JSON Lines corpus, "
                              "relocated as libbpf loads them")
    elf_import.add_arguments(ce)  # OBJ..., --out FILE.jsonl, --source, --btf, --core, --strict-btf
    ce.set_defaults(fn=elf_import.run)
    from . import bench

    bench.add_subcommand(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        print("\nverifier-diff: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
