"""Check (and record) the live kernel's verdict on every program of a corpus.

The expectations of the built-in corpus are never written by hand: this
script loads each program into the running kernel (``kernel_loader.load``,
creating its maps) and compares the kernel's verdict and rejection message
with the file's ``# expect:`` and ``# expect_message:`` lines. With
``--update`` it rewrites those lines in the ``.s`` files from what the kernel
said (the message recorded is the kernel's whole rejection line).

    python -m selftests.check_corpus                # check the built-in corpus
    python -m selftests.check_corpus --update       # record the kernel's verdicts
    python -m selftests.check_corpus DIR_OR_FILE    # another corpus

Exit status: 0 when everything matches (or was updated), 1 on a mismatch or a
program the kernel could not be asked about (``error``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyverifier.program import Program
from pyverifier.result import ACCEPT, REJECT, Result

from .asmfile import CorpusError, load_asm_file, with_expect
from .corpus import BUILTIN, builtin_dir, load_corpus


def mismatch(program: Program, result: Result) -> str | None:
    """Why ``result`` does not meet ``program.expect`` (None when it does)."""
    exp = program.expect
    if result.verdict not in (ACCEPT, REJECT):
        return f"kernel could not decide: {result.message}"
    if exp.verdict is None:
        return f"no expectation recorded (kernel: {result.verdict})"
    if result.verdict != exp.verdict:
        return f"expected {exp.verdict}, kernel said {result.verdict}: {result.message}"
    if exp.message and exp.message not in result.message:
        return f"expected message {exp.message!r}, kernel said {result.message!r}"
    return None


def _still_said(message: str, result: Result) -> bool:
    """Is ``message`` part of the kernel's reason, or a whole line of its log?"""
    return message in result.message or message in (ln.strip() for ln in result.log.split("\n"))


def _asm_files(spec: str) -> list[tuple[Path, str]]:
    if spec == BUILTIN:
        d, source = builtin_dir(), BUILTIN
    else:
        d = Path(spec)
        if d.is_file():
            return [(d, d.resolve().parent.name)]
        source = d.resolve().name
    return [(p, source) for p in sorted(d.rglob("*.s"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m selftests.check_corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", nargs="?", default=BUILTIN, help="corpus: 'builtin', a directory, a .s or .jsonl file")
    ap.add_argument("--update", action="store_true", help="rewrite the expect lines of the .s files from the kernel")
    ap.add_argument("--log-level", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every program, not only mismatches")
    args = ap.parse_args(argv)

    import kernel_loader

    ok, why = kernel_loader.bpf_status()
    if not ok:
        print(f"error: {why}", file=sys.stderr)
        return 1

    bad = 0
    if args.update:
        for path, source in _asm_files(args.spec):
            try:
                p = load_asm_file(path, source)
            except CorpusError as e:
                print(f"error: {e}", file=sys.stderr)
                bad += 1
                continue
            r = kernel_loader.load(p, log_level=args.log_level)
            if r.verdict not in (ACCEPT, REJECT):
                print(f"error: {path}: kernel could not decide: {r.message}", file=sys.stderr)
                bad += 1
                continue
            text = path.read_text()
            message = r.message if r.verdict == REJECT else None
            if message and p.expect.verdict == REJECT and p.expect.message and _still_said(p.expect.message, r):
                message = p.expect.message  # a hand-narrowed message the kernel still prints: keep it
            new = with_expect(text, r.verdict, message)
            if new != text:
                path.write_text(new)
                print(f"updated {path.name}: {r.verdict} {r.message}")
            elif args.verbose:
                print(f"ok {path.name}: {r.verdict} {r.message}")
        return 1 if bad else 0

    programs, errors = load_corpus(args.spec)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    for p in programs:
        r = kernel_loader.load(p, log_level=args.log_level)
        why = mismatch(p, r)
        if why:
            bad += 1
            print(f"MISMATCH {p.id}: {why}")
        elif args.verbose:
            print(f"ok {p.id}: {r.verdict} {r.message}")
    print(f"{len(programs)} programs, {bad} mismatches, {len(errors)} load errors")
    return 1 if bad or errors else 0


if __name__ == "__main__":
    sys.exit(main())
