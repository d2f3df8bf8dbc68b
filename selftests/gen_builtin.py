"""Generate the regular programs of the built-in corpus.

Hand-writing a few hundred instructions is error-prone; these programs are
regular, so a small generator writes them. This module holds the first
unrolled medium-sized programs and gathers the families of
``gen_builtin_scalar`` (ALU ranges, branch refinement, division),
``gen_builtin_progtypes`` (context fields, return ranges and packet checks per
program type), ``gen_builtin_medium`` (parsers, counters, dispatchers: mostly
100-999 instructions) and ``gen_builtin_large`` (the complex and maximum-size
programs). The targeted hand-written programs are plain ``.s`` files. Each program is written once and checked in; run again after
changing a generator:

    python -m selftests.gen_builtin [--out selftests/corpus/builtin] [NAME ...]
    python -m selftests.check_corpus --update    # record the kernel's verdicts

The ``expect`` lines of an existing file are kept (they come from the kernel,
via check_corpus, not from here).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from .asmfile import parse_header, with_expect
from .corpus import builtin_dir
from .gen_header import header


def _header(name: str, prog_type: str, tags: str, description: list[str], maps: list[str] = ()) -> str:
    return header(name, prog_type, tags, description, maps)


def unrolled_stack_sum() -> str:
    """Fill all 64 stack slots with values derived from skb->len, then sum them back."""
    body = ["r6 = r1", "r2 = *(u32 *)(r6 +0)"]
    for i in range(1, 65):
        body += ["r3 = r2", f"r3 += {i}", f"*(u64 *)(r10 -{8 * i}) = r3"]
    body.append("r0 = 0")
    for i in range(1, 65):
        body += [f"r3 = *(u64 *)(r10 -{8 * i})", "r0 += r3"]
    body += ["r0 &= 65535", "exit"]
    return _header(
        "unrolled_stack_sum", "socket_filter", "stack, memory, alu",
        ["the whole 512-byte stack written slot by slot (unrolled), then read",
         "back and summed: 64 spilled scalars tracked at once"],
    ) + "\n".join(body) + "\n"


def xdp_unrolled_checksum() -> str:
    """One bounds check covering 128 bytes, then 64 half-word loads folded into a checksum."""
    body = [
        "r2 = *(u32 *)(r1 +0)",
        "r3 = *(u32 *)(r1 +4)",
        "r4 = r2",
        "r4 += 128",
        "if r4 > r3 goto pass",
        "r0 = 0",
    ]
    for i in range(64):
        body += [f"r5 = *(u16 *)(r2 +{2 * i})", "r0 += r5"]
    for _ in range(2):
        body += ["r1 = r0", "r1 >>= 16", "r0 &= 65535", "r0 += r1"]
    body += [
        "if r0 == 0xffff goto drop",
        "pass:",
        "r0 = 2",
        "exit",
        "drop:",
        "r0 = 1",
        "exit",
    ]
    return _header(
        "xdp_unrolled_checksum", "xdp", "packet, alu, ctx, branch",
        ["one comparison against data_end proves 128 bytes readable; 64",
         "unrolled half-word loads are summed into a ones'-complement checksum"],
    ) + "\n".join(body) + "\n"


def branch_ladder() -> str:
    """100 conditional increments on one unknown value: many states for the pruning to merge."""
    body = ["r1 = *(u32 *)(r1 +0)", "r1 &= 65535", "r0 = 0"]
    for i in range(100):
        body += [f"if r1 < 0x{(i + 1) * 600:x} goto skip{i}", "r0 += 1", f"skip{i}:"]
    body += ["r0 &= 1", "exit"]
    return _header(
        "branch_ladder", "socket_filter", "branch",
        ["a ladder of 100 comparisons of the same unknown value against rising",
         "thresholds, each guarding an increment: the path count is linear because",
         "the comparisons imply each other, but every rung holds several states"],
    ) + "\n".join(body) + "\n"


def alu_hash_chain() -> str:
    """64 rounds of an FNV-style mix with rotations, in 64- and 32-bit ALU."""
    body = [
        "r6 = r1",
        "r7 = *(u32 *)(r6 +0)",
        "r8 = *(u32 *)(r6 +16)",
        "r0 = 0xcbf29ce484222325",
    ]
    for i in range(64):
        src = "r7" if i % 2 == 0 else "r8"
        body += [
            f"r0 ^= {src}",
            "r0 *= 16777619",
            "r3 = r0",
            f"r3 <<= {13 + i % 7}",
            f"r0 >>= {51 - i % 7}",
            "r0 |= r3",
            f"w{7 + i % 2} += {i + 1}",
        ]
    body += ["r0 &= 1", "exit"]
    return _header(
        "alu_hash_chain", "socket_filter", "alu, alu32",
        ["64 unrolled rounds of an FNV-style hash with rotations, mixing 64-bit",
         "and 32-bit arithmetic on two context fields"],
    ) + "\n".join(body) + "\n"


def reject_map_chain_missing_check() -> str:
    """Twelve lookups, each NULL-checked, except the last one."""
    body = ["r6 = r1"]
    for i in range(12):
        checked = i < 11
        body += [
            f"*(u32 *)(r10 -4) = {i}",
            "r2 = r10",
            "r2 += -4",
            "r1 = map[slots]",
            "call bpf_map_lookup_elem#1",
        ]
        if checked:
            body.append(f"if r0 == 0x0 goto next{i}")
        body += [
            "r1 = *(u32 *)(r6 +0)",
            f"r1 += {i}",
            "*(u64 *)(r0 +0) = r1",
        ]
        if checked:
            body.append(f"next{i}:")
    body += ["r0 = 0", "exit"]
    return _header(
        "reject_map_chain_missing_check", "socket_filter", "map, helper",
        ["twelve map lookups in a row, each result written to; the last one is",
         "not checked for NULL"],
        ["slots type=array key=4 value=8 entries=16"],
    ) + "\n".join(body) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "unrolled_stack_sum": unrolled_stack_sum,
    "xdp_unrolled_checksum": xdp_unrolled_checksum,
    "branch_ladder": branch_ladder,
    "alu_hash_chain": alu_hash_chain,
    "reject_map_chain_missing_check": reject_map_chain_missing_check,
}


def _all_generators() -> dict[str, Callable[[], str]]:
    """The generators of this module and of the family modules, by program name (unique)."""
    from . import gen_builtin_large, gen_builtin_medium, gen_builtin_progtypes, gen_builtin_scalar

    out = dict(GENERATORS)
    for mod in (gen_builtin_scalar, gen_builtin_progtypes, gen_builtin_medium, gen_builtin_large):
        for name, fn in mod.GENERATORS.items():
            if name in out:
                raise ValueError(f"generator name {name!r} defined twice")
            out[name] = fn
    return out


def render(name: str, existing: str | None) -> str:
    """The file text for generator ``name``, keeping the expect lines of ``existing``."""
    text = _all_generators()[name]()
    if existing is not None:
        fields, _ = parse_header(existing)
        verdict = fields.get("expect", [(0, None)])[0][1]
        message = fields.get("expect_message", [(0, None)])[0][1]
        if verdict:
            text = with_expect(text, verdict, message)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m selftests.gen_builtin", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=builtin_dir())
    ap.add_argument("names", nargs="*", help="only these programs (default: all)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    generators = _all_generators()
    unknown = [n for n in args.names if n not in generators]
    if unknown:
        ap.error(f"no generator named {', '.join(unknown)}")
    for name in args.names or generators:
        dest = args.out / f"{name}.s"
        existing = dest.read_text() if dest.exists() else None
        text = render(name, existing)
        if text != existing:
            dest.write_text(text)
            print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
