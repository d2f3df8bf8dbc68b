"""``python -m kernel_loader.matrix``: set up the kernel matrix, or run a corpus on other kernels.

    python -m kernel_loader.matrix setup [6.1 6.12]      build the loader, fetch kernels (idempotent)
    python -m kernel_loader.matrix verify 6.1 [6.12] [--corpus builtin] [--compare-host] [--repeat N]
                                          [--guest-log-level 1|2|4]

Guests load at log level 4 (BPF_LOG_STATS alone, like veristat: verdict, messages, statistics) unless
--guest-log-level 1 or 2 asks for their full logs. --log-level is the host's, for --compare-host.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter

from . import available_kernels, ensure_kernel, ensure_loader
from .batchrun import GUEST_LOG_LEVEL, GUEST_LOG_LEVELS, BatchStats, verify_batch
from .kernels import KernelUnavailable, cached
from .loaderbin import LoaderUnavailable


def cmd_setup(args) -> int:
    try:
        print(f"loader: {ensure_loader()}")
    except LoaderUnavailable as e:
        print(f"matrix setup: {e}", file=sys.stderr)
        return 1
    versions = args.versions or available_kernels()
    rc = 0
    for v in versions:
        try:
            ensure_kernel(v)
            k = cached(v)
            print(f"kernel {v}: {k.release} ({k.package} {k.version}) -> {k.image}")
        except KernelUnavailable as e:
            print(f"matrix setup: kernel {v}: {e}", file=sys.stderr)
            rc = 1
    return rc


def cmd_verify(args) -> int:
    from selftests.corpus import load_corpus

    programs, errors = load_corpus(args.corpus)
    for e in errors:
        print(f"corpus: {e}", file=sys.stderr)
    host = None
    if args.compare_host:
        from kernel_loader import bpf_status, load

        ok, why = bpf_status()
        if ok:
            host = [load(p, log_level=args.log_level, repeat=args.repeat) for p in programs]
        else:
            print(f"host kernel unavailable: {why}", file=sys.stderr)
    for v in args.versions:
        stats = BatchStats()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        res = verify_batch(v, programs, log_level=args.guest_log_level, stats=stats, repeat=args.repeat)
        el = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        counts = Counter(r.verdict for r in res)
        print(f"kernel {v} ({stats.release}), log level {args.guest_log_level}: {len(programs)} programs in {el:.2f} s "
              f"(QEMU CPU {cpu:.2f} s), {stats.boots} boot(s) "
              f"({', '.join(f'{s:.2f}' for s in stats.boot_seconds)} s), {stats.output_bytes} bytes of output; "
              + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())))
        timed = [r.verify_us for r in res if r.verify_us]
        if timed:
            total_us = sum(sum(t) for t in timed)
            print(f"  verification time (the kernel's own): {total_us / 1e6:.2f} s in all, "
                  f"{sum(map(len, timed))} loads of {len(timed)} programs ({args.repeat} a program asked)")
        for p, r in zip(programs, res):
            if r.verdict == "error":
                print(f"  error {p.id}: {r.message}")
        if host:
            diff = [(p, h, r) for p, h, r in zip(programs, host, res) if h.verdict != r.verdict]
            same_msg = sum(1 for h, r in zip(host, res) if h.verdict == r.verdict == "reject" and h.message != r.message)
            print(f"  verdicts differing from {host[0].verifier}: {len(diff)}; both reject with another message: {same_msg}")
            for p, h, r in diff:
                print(f"    {p.id}: host {h.verdict} ({h.message[:70]}) / {v} {r.verdict} ({r.message[:70]})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kernel_loader.matrix", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="build the guest loader and fetch kernels (all available by default)")
    s.add_argument("versions", nargs="*")
    s.set_defaults(fn=cmd_setup)
    v = sub.add_parser("verify", help="verify a corpus with other kernels and report time and verdicts")
    v.add_argument("versions", nargs="+")
    v.add_argument("--corpus", default="builtin")
    v.add_argument("--guest-log-level", type=int, default=GUEST_LOG_LEVEL, choices=GUEST_LOG_LEVELS,
                   help="the guests' verifier log level: 4 (default) statistics and messages only, 1 or 2 full logs")
    v.add_argument("--log-level", type=int, default=2, choices=(1, 2), help="the host's log level (--compare-host)")
    v.add_argument("--compare-host", action="store_true", help="also load on the running kernel and list differences")
    v.add_argument("--repeat", type=int, default=1, help="loads of each program (each one's verification time is kept)")
    v.set_defaults(fn=cmd_verify)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
