#!/usr/bin/env python3
"""Random programs through the live kernel and pyverifier: agreement figures.

Programs come from tests/prune_progs.py (branches, spills, bounded loops;
socket filters) or, with ``--extended``, from the same generator with more
ALU forms (``r -= K``, 32-bit adds and subtracts, register copies) and
compares of a register with itself and 32-bit compares, which exercise
linked scalar ids harder.

For each program both verifiers run at log level 2 (with statistics); the
figures are: same verdict, same processed instructions, same state counts
(total, peak, max per insn), and identical normalized full logs
(compare.divergence.first_divergence). The first-divergence signatures of the
differing programs are tallied.

Needs root and bpf(). Usage (from the repository root)::

    .venv/bin/python scripts/fuzz_compare.py                 # the default sets
    .venv/bin/python scripts/fuzz_compare.py --set 0:300:6 --dump /tmp/fz
    .venv/bin/python scripts/fuzz_compare.py --extended
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

DEFAULT_SETS = ["0:300:6", "1000:1150:12", "2000:2100:20"]


def _program(seed: int, blocks: int, extended: bool):
    import prune_progs

    if not extended:
        return prune_progs.program(seed, blocks)
    return _extended_program(seed, blocks)


def _extended_program(seed: int, blocks: int):
    """prune_progs.program with a richer ALU and jump mix (same shape, different draws)."""
    import prune_progs as pp
    from pyverifier.insn import Insn

    base_alu, base_jmp = pp._alu, pp._jmp

    def alu(rng):
        r = rng.random()
        d = rng.choice(pp.VAL_REGS)
        if r < 0.12:
            return [Insn(pp.ALU64_K | pp.SUB, d, 0, 0, rng.choice([1, 2, 7, 0x100, -3]))]
        if r < 0.24:
            return [Insn(pp.ALU32_K | rng.choice([pp.ADD, pp.SUB]), d, 0, 0, rng.choice([1, 3, 0x100, -1]))]
        if r < 0.32:
            return [Insn(0x0C | pp.ADD, d, rng.choice(pp.VAL_REGS), 0, 0)]  # w += wX
        if r < 0.40:
            return [Insn(0xBC, d, rng.choice(pp.VAL_REGS), 0, 0)]  # wD = wS
        return base_alu(rng)

    def jmp(rng, skip):
        r = rng.random()
        d = rng.choice(pp.VAL_REGS)
        if r < 0.12:
            cls = 0x05 if rng.random() < 0.6 else 0x06
            return Insn(cls | rng.choice(pp.JMP_OPS) | 8, d, d, skip, 0)
        if r < 0.3:
            return Insn(0x06 | rng.choice(pp.JMP_OPS), d, 0, skip, rng.choice([0, 1, 4, 100, -1, 0x7FFFFFFF]))
        return base_jmp(rng, skip)

    pp._alu, pp._jmp = alu, jmp
    try:
        p = pp.program(seed, blocks)
    finally:
        pp._alu, pp._jmp = base_alu, base_jmp
    import dataclasses

    return dataclasses.replace(p, id=f"t/ext_{seed}", name=f"ext_{seed}")


_STATS = ("insns_processed", "total_states", "peak_states", "max_states_per_insn")


def _one(task):
    seed, blocks, extended, dump = task
    from compare.divergence import first_divergence
    from kernel_loader import load
    from pyverifier.insn import decode
    from pyverifier.verifier import verify

    p = _program(seed, blocks, extended)
    k = load(p, log_level=2, info=False)
    r = verify(p, 2 | 4)
    ins = decode(p.insns)
    div = first_divergence(k.log or "", r.log or "", ins)
    row = {
        "seed": seed,
        "verdict": k.verdict == r.verdict,
        "insns": k.insns_processed == r.insns_processed,
        "states": all(getattr(k, s) == getattr(r, s) for s in _STATS[1:]),
        "log": div is None,
        "signature": div.signature if div else "",
        "kernel_verdict": k.verdict,
        "py_verdict": r.verdict,
        "py_message": r.message or "",
    }
    if dump and div is not None:
        from compare.divergence import normalize

        os.makedirs(dump, exist_ok=True)
        Path(dump, f"{seed}.k").write_text("\n".join(normalize(k.log or "", ins, kernel=True)) + "\n")
        Path(dump, f"{seed}.p").write_text("\n".join(normalize(r.log or "", ins)) + "\n")
        row["div_line"] = div.line
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", metavar="FIRST:END:BLOCKS",
                    help=f"seed range and block count (repeatable; default {' '.join(DEFAULT_SETS)})")
    ap.add_argument("--extended", action="store_true", help="richer ALU/jump mix (see the module doc)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dump", help="write both normalized logs of each differing program here")
    ap.add_argument("--list", action="store_true", help="print each differing seed")
    ap.add_argument("--top", type=int, default=8, help="how many divergence signatures to show")
    a = ap.parse_args(argv)
    sets = a.set or DEFAULT_SETS
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {os.uname().release} "
          f"{'extended' if a.extended else 'prune_progs'} generator")
    total = collections.Counter()
    sigs = collections.Counter()
    with mp.get_context("fork").Pool(a.jobs) as pool:
        for spec in sets:
            first, end, blocks = (int(x) for x in spec.split(":"))
            tasks = [(s, blocks, a.extended, a.dump) for s in range(first, end)]
            rows = pool.map(_one, tasks, chunksize=1)
            c = collections.Counter()
            for row in rows:
                c["n"] += 1
                for key in ("verdict", "insns", "states", "log"):
                    c[key] += row[key]
                if not row["log"]:
                    sigs[row["signature"]] += 1
                    if a.list:
                        print(f"  seed {row['seed']}: {row['kernel_verdict']}/{row['py_verdict']} "
                              f"{row['signature']} {row['py_message'][:80]}")
            total.update(c)
            _line(f"seeds {first}-{end - 1} x{blocks} blocks", c)
    if len(sets) > 1:
        _line("all", total)
    if sigs:
        print("first divergences:")
        for s, n in sigs.most_common(a.top):
            print(f"  {n:4d}  {s}")
    return 0


def _line(label, c) -> None:
    n = c["n"]
    print(f"{label:28s} programs {n:4d}  verdict {c['verdict']:4d}  insns {c['insns']:4d}  "
          f"states {c['states']:4d}  identical logs {c['log']:4d} ({100 * c['log'] / max(n, 1):.1f}%)")


if __name__ == "__main__":
    sys.exit(main())
