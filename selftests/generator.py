"""Seeded random BPF programs that are mostly valid and exercise what breaks verifiers.

``generate(seed, count)`` returns ``count`` Programs with ids ``gen-<seed>/<n>``.
The same seed and count give the same programs, byte for byte, on every run
and Python 3 version (program ``n`` depends only on the seed and ``n``, so
``generate(s, 10)[:5] == generate(s, 5)``).

A program is a prologue (``r6`` = context, a pool of stack slots holding
unknown scalars), a sequence of blocks (see ``selftests/gen/blocks_*.py``)
and an epilogue returning a valid value, followed by any bpf-to-bpf
subprograms the blocks call. Blocks stress scalar bounds (ALU chains, 32-bit
operations, movsx, byte swaps, signed division, shifts by unknown amounts),
pointer arithmetic on the stack, map values and packets with offsets bounded
by masks and compares, branches on correlated and linked registers, spills
and fills, helper calls with computed sizes, bounded loops, subprograms and
atomics. Most programs are valid; some carry one deliberate flaw (tag
``flaw``) and some rely on the verifier's precision (tag ``precision``), so the
kernel rejects a fair share for bounds reasons. Programs carry no
expectation: the kernel decides.

Tags (``TAGS`` explains each): the size class first (``simple`` < 100
instruction slots, ``medium`` < 1000, ``complex`` < 10000), then what the
program exercises, sorted.

Command line: ``python -m selftests.generator --seed S --count N --out FILE.jsonl``.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable

from pyverifier import uapi
from pyverifier.insn import encode
from pyverifier.opcodes import BPF_ADD, BPF_AND, BPF_JEQ
from pyverifier.program import Program

from .gen import profiles as P
from .gen.blocks_alu import block_alu_chain, block_bswap, block_div_mod, block_long_chain, block_signed_window
from .gen.blocks_flow import (
    block_correlated, block_dead_branch, block_diamonds, block_linked, block_long_loop, block_loop,
    block_subprog,
)
from .gen.blocks_helpers import block_ld_abs, block_map_update, block_prandom, block_read_helper
from .gen.blocks_mem import (
    block_atomic, block_pkt_parse, block_ptr_arith, block_ptr_spill, block_scaled_index, block_spill_fill,
)
from .gen.context import LOCAL_AREA, Gen
from .gen.rng import Rng

__all__ = ["generate", "generate_one", "size_class", "summary", "main", "TAGS"]

SOURCE_PREFIX = "gen"
SIZE_CLASSES = (("simple", 66), ("medium", 31), ("complex", 3))
TARGETS = {"simple": (6, 99), "medium": (100, 999), "complex": (1000, 2500)}
FLAW_PCT = 35  # programs that get one deliberate flaw (if the chosen block offers a place for it)
FRONTIER_PCT = 10  # base rate of choices that lean on the verifier's precision
MAX_BLOCK_TRIES = 400

# Every tag a generated program can carry, and what it means.
TAGS: dict[str, str] = {
    "simple": "size class: fewer than 100 instruction slots",
    "medium": "size class: 100 to 999 instruction slots",
    "complex": "size class: 1000 to 9999 instruction slots",
    "alu": "ALU operations on unknown scalars",
    "alu32": "32-bit ALU operations (zero extension of the result)",
    "movsx": "sign-extending moves",
    "bswap": "byte swaps (le/be/bswap)",
    "div": "unsigned division or modulo",
    "sdiv": "signed division or modulo",
    "shift": "shifts used to bound a value",
    "shift_var": "shifts by an unknown amount",
    "branch": "conditional jumps that bound or select values",
    "jmp32": "32-bit conditional jumps",
    "correlated": "a branch comparing two registers, then an offset derived from the relation",
    "linked": "a value bounded through a copy (linked scalar ids, with or without a constant delta)",
    "dead_branch": "invalid code behind a branch the bounds make impossible",
    "precision": "an access relies on the verifier's range tracking instead of a guard",
    "flaw": "one deliberate bug (off-by-one bound, missing lower bound, short packet check, ...)",
    "memory": "loads and stores through computed pointers",
    "ptr_arith": "pointer arithmetic with unknown (bounded) offsets",
    "stack": "stack buffers accessed at variable offsets",
    "map": "maps (array, hash, array with one entry addressed directly)",
    "direct_value": "a map value referenced by address in ld_imm64 (BPF_PSEUDO_MAP_VALUE)",
    "null_elision": "an array lookup with a constant in-range key used without a NULL check",
    "packet": "direct packet access checked against data_end, or legacy packet loads",
    "ctx": "context field loads",
    "spill": "scalars through stack slots (spills and fills)",
    "spill32": "32-bit or narrower spills and fills",
    "ptr_spill": "pointers through stack slots",
    "helper": "helper calls",
    "prandom": "bpf_get_prandom_u32 as a source of unknown values",
    "map_helper": "bpf_map_update_elem/delete/lookup with keys built on the stack",
    "probe_read": "bpf_probe_read_kernel(_str) with a computed length",
    "skb_load_bytes": "bpf_skb_load_bytes with a computed length",
    "xdp_load_bytes": "bpf_xdp_load_bytes with a computed length",
    "loop": "bounded loops (constant, unknown or may_goto bound)",
    "may_goto": "may_goto loops",
    "subprog": "bpf-to-bpf calls",
    "atomic": "atomic operations (add/or/and/xor, fetch, xchg, cmpxchg)",
    "load_acquire": "load-acquire / store-release",
    "ld_abs": "legacy BPF_LD_ABS / BPF_LD_IND packet loads",
}

Block = Callable[[Gen], None]
# (block, weight, size classes it is used in)
BLOCKS: tuple[tuple[Block, int, str], ...] = (
    (block_alu_chain, 14, "smc"),
    (block_long_chain, 3, "mc"),
    (block_signed_window, 4, "smc"),
    (block_div_mod, 3, "smc"),
    (block_bswap, 2, "smc"),
    (block_scaled_index, 8, "smc"),
    (block_ptr_arith, 6, "smc"),
    (block_pkt_parse, 5, "smc"),
    (block_spill_fill, 7, "smc"),
    (block_ptr_spill, 3, "smc"),
    (block_atomic, 5, "smc"),
    (block_correlated, 7, "smc"),
    (block_linked, 5, "smc"),
    (block_dead_branch, 4, "smc"),
    (block_diamonds, 3, "smc"),
    (block_loop, 5, "smc"),
    (block_long_loop, 1, "mc"),
    (block_subprog, 5, "smc"),
    (block_read_helper, 6, "smc"),
    (block_map_update, 4, "smc"),
    (block_prandom, 3, "smc"),
    (block_ld_abs, 2, "smc"),
)


def size_class(n_insns: int) -> str:
    if n_insns < 100:
        return "simple"
    if n_insns < 1000:
        return "medium"
    if n_insns < 10000:
        return "complex"
    return "maximum"


def _prologue(g: Gen) -> None:
    """r6 = ctx; a pool of 2-4 stack slots holding unknown scalars from different sources."""
    rng, b = g.rng, g.b
    b.mov(6, 1)
    n = rng.between(2, 4)
    for k in range(n):
        off = -LOCAL_AREA - 8 * (k + 1)
        src = rng.weighted((("ctx", 4), ("prandom", 3), ("ktime", 1), ("mapval", 2), ("const", 1),
                            ("pid", 1 if g.p.tracing else 0)))
        if src == "ctx":
            size = g.p.ctx_field_size
            b.ldx(size, 0, 6, rng.pick(g.p.ctx_fields))
            kind = f"u{size * 8}"
            g.tag("ctx")
        elif src in ("prandom", "ktime", "pid"):
            b.call({"prandom": P.GET_PRANDOM_U32, "ktime": P.KTIME_GET_NS, "pid": P.GET_CURRENT_PID_TGID}[src])
            kind = "u32" if src == "prandom" else "u64"
            g.tag("helper")
            if src == "prandom":
                g.tag("prandom")
        elif src == "mapval":
            idx = g.map_index("array")
            b.st(4, 10, off, rng.below(g.maps[idx].max_entries))
            b.ld_map(1, idx)
            b.mov(2, 10)
            b.alu_imm(BPF_ADD, 2, off)
            b.call(P.MAP_LOOKUP)
            zero, done = b.new_label("z"), b.new_label("d")
            b.jmp_imm(BPF_JEQ, 0, 0, zero)
            b.ldx(8, 0, 0, 0)
            b.goto(done)
            b.label(zero)
            b.mov_imm(0, 0)
            b.label(done)
            kind = "u64"
            g.tag("helper")
        else:
            value = rng.bits(rng.pick((4, 8, 16)))
            b.st(8, 10, off, value)
            g.pool.append((off, f"c{value}"))
            continue
        b.stx(8, 10, 0, off)
        g.pool.append((off, kind))


def _epilogue(g: Gen) -> None:
    rng, b = g.rng, g.b
    if g.pool and rng.percent(20):
        b.ldx(8, 0, 10, rng.pick(g.pool)[0])
        b.alu_imm(BPF_AND, 0, 1)
        b.alu_imm(BPF_ADD, 0, rng.pick(g.p.returns) & 0xFF if rng.percent(50) else 0)
    else:
        b.mov_imm(0, rng.pick(g.p.returns))
    b.exit()
    for label, emit in g.subprogs:
        b.label(label)
        emit(g)


def generate_one(seed: int, n: int) -> Program:
    """Program ``n`` of seed ``seed`` (independent of how many others are generated)."""
    rng = Rng(f"verifier-diff-generator/{seed}/{n}")
    profile = P.PROFILES[rng.weighted(P.PROFILE_WEIGHTS)]
    klass = rng.weighted(SIZE_CLASSES)
    lo, hi = TARGETS[klass]
    target = rng.between(lo, rng.between(lo + (hi - lo) // 4, hi))
    g = Gen(rng, profile, FRONTIER_PCT)
    _prologue(g)
    est_blocks = max(1, target // 24)  # blocks average 20-27 slots
    if rng.percent(FLAW_PCT):
        g.flaw_block = rng.below(est_blocks)
    letter = klass[0]
    table = [(fn, w) for fn, w, classes in BLOCKS if letter in classes]
    tries = 0
    while (len(g.b) < target or g.block_no == 0) and tries < MAX_BLOCK_TRIES:
        tries += 1
        fn = rng.weighted(table)
        # a block that would push the program out of its size class is dropped (but never the first)
        g.run_block(fn, max_len=hi - 12 if g.block_no else None)
    _epilogue(g)
    insns = g.b.finish()
    tags = (size_class(len(insns)),) + tuple(sorted(t for t in g.tags if t))
    return Program(
        id=f"{SOURCE_PREFIX}-{seed}/{n}",
        source=f"{SOURCE_PREFIX}-{seed}",
        name=str(n),
        prog_type=profile.prog_type,
        insns=encode(insns),
        maps=tuple(g.maps),
        tags=tags,
    )


def generate(seed: int, count: int) -> list[Program]:
    """``count`` programs of seed ``seed``: ids ``gen-<seed>/0`` .. ``gen-<seed>/<count-1>``."""
    if count < 0:
        raise ValueError("count must be >= 0")
    return [generate_one(seed, n) for n in range(count)]


def summary(programs: list[Program]) -> str:
    """One line: how many programs of each size class and program type."""
    classes = Counter(p.tags[0] for p in programs if p.tags)
    types = Counter(uapi.prog_type_name(p.prog_type) for p in programs)
    return (", ".join(f"{k} {v}" for k, v in sorted(classes.items())) + "; "
            + ", ".join(f"{k} {v}" for k, v in sorted(types.items())))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m selftests.generator",
                                 description="Write seeded random BPF programs as a JSON Lines corpus.")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--count", type=int, default=100, help="number of programs (default 100)")
    ap.add_argument("--out", required=True, help="output .jsonl file")
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    from .corpus import write_jsonl

    programs = generate(args.seed, args.count)
    n = write_jsonl(programs, args.out)
    print(f"wrote {n} programs to {args.out}: {summary(programs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
