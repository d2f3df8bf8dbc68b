"""One program under construction: registers, stack, maps, sources, regions, guards, accesses.

A generated program is a prologue (``r6`` = context, a *pool* of stack slots
filled with unknown scalars), a sequence of independent *blocks* and an
epilogue. A block may only read registers it wrote itself (plus ``r6`` and
``r10``) and stack it initialised itself or the pool, so it can be dropped in
anywhere; every block ends at its own ``skip`` label, where a failed bounds
check jumps.

Each block also follows a few *sample* values (``Gen.sv``: register -> list of
concrete values, one per sample environment) through its ALU operations with
the run-time semantics, so the generator knows roughly what range a computed
offset really has. The kernel's abstraction is what decides; the samples only
choose memory sizes and tell which guards are needed.

Two knobs steer the mix of verdicts: a program may get one deliberate *flaw*
(an off-by-one bound, a missing lower bound, a check one byte short, ...) at a
chosen block, and *frontier* choices (code whose safety depends on how precise
the verifier is: 32-bit checks of 64-bit values, relying on an ALU chain's
bounds, signed checks of zero-extended values) appear at a low rate.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyverifier.opcodes import (
    BPF_ADD, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE, BPF_JSET, BPF_JSGE,
    BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOV, BPF_RSH, BPF_XOR,
)
from pyverifier.program import MapSpec
from pyverifier.uapi import map_type_num

from . import profiles as P
from .builder import Builder
from .profiles import Profile
from .rng import Rng
from .semantics import M32, M64, alu, end, sext, signed

NS = 16  # sample environments followed per block
MAIN_REGS = (0, 1, 2, 3, 4, 5, 7, 8, 9)  # r6 holds the context, r10 the frame
SAVED_REGS = (7, 8, 9)  # survive helper calls
MAX_MAPS = 4
MAX_VALUE_SIZE = 512
EXIT_STUB_PCT = 25  # blocks whose failed checks return from the program
LOCAL_AREA = 256  # block-local stack of the main frame, [r10-256, r10); the pool lies below it
# subprogram frames stay under 64 bytes, so a call chain fits in the 512-byte limit


class NoRoom(Exception):
    """The block cannot be placed here (no stack left, a feature the type lacks); it is rolled back."""


@dataclass
class Region:
    """Memory a block accesses: ``size`` bytes from the pointer in ``base``."""

    kind: str  # "stack", "map", "direct" (map value by address), "pkt"
    base: int
    size: int  # accessible bytes (pkt: decided by the check at the access)
    strict: bool  # every access must be aligned (the kernel's rule for the stack)
    writable: bool = True
    end: int = -1  # pkt: register with data_end
    tight: bool = False  # going past ``size`` is an error the verifier can see (map value end, frame top)


Emitter = Callable[["Gen"], None]


class Gen:
    """The state of one program being generated (see the module docstring)."""

    def __init__(self, rng: Rng, profile: Profile, frontier_pct: int = 10) -> None:
        self.rng = rng
        self.p = profile
        self.b = Builder()
        self.maps: list[MapSpec] = []
        self.tags: list[str] = []
        self.pool: list[tuple[int, str]] = []  # (stack offset, sample kind) of the unknown-scalar pool
        self.local_top = 0
        self.cursor = 0
        self.local_limit = -LOCAL_AREA
        self.subprogs: list[tuple[str, Emitter]] = []
        self.use_ld_abs = False  # LD_ABS/IND and bpf-to-bpf calls exclude each other
        self.sv: dict[int, list[int]] = {}
        self.held: set[int] = set()  # registers the current block has picked
        self.skip = ""
        self.block_no = 0
        self.flaw_block = -1  # block that gets the deliberate flaw, -1: none
        self.flaws = 0
        self.flaw_taken_in = -1
        self.frontier_pct = frontier_pct

    # --- bookkeeping -------------------------------------------------------------
    def tag(self, *names: str) -> None:
        for n in names:
            if n not in self.tags:
                self.tags.append(n)

    def pick(self, k: int = 1, avoid: tuple[int, ...] | list[int] = (), saved: bool = False) -> list[int]:
        """``k`` distinct registers the block has not picked yet (they stay reserved for the block)."""
        pool = [r for r in (SAVED_REGS if saved else MAIN_REGS)
                if r not in avoid and r not in self.held and r not in self.sv]
        if len(pool) < k:
            raise NoRoom("registers")
        regs = self.rng.shuffled(pool)[:k]
        self.held.update(regs)
        return regs

    def alloc(self, size: int, align: int = 8) -> int:
        """Stack offset (negative, from r10) of ``size`` fresh bytes of the block-local area."""
        cur = -((size - self.cursor + align - 1) // align * align)
        if cur < self.local_limit:
            raise NoRoom("stack")
        self.cursor = cur
        return cur

    def want_flaw(self) -> bool:
        """True at most once per program, inside the block chosen for the deliberate flaw."""
        if self.flaws == 0 and self.block_no == self.flaw_block:
            self.flaws = 1
            self.flaw_taken_in = self.block_no
            self.tag("flaw")
            return True
        return False

    def flaw_here(self) -> bool:
        """The current block has placed the program's flaw."""
        return self.flaws == 1 and self.flaw_taken_in == self.block_no

    def frontier(self, scale: int = 1) -> bool:
        """A choice whose verdict depends on the verifier's precision, taken now and then."""
        return self.rng.percent(min(100, self.frontier_pct * scale))

    def run_block(self, fn: Emitter, max_len: int | None = None) -> bool:
        """Emit one block; a block that raises NoRoom, or ends past ``max_len`` slots, leaves no trace."""
        cp = (self.b.checkpoint(), len(self.tags), len(self.subprogs), len(self.maps), self.flaws,
              self.use_ld_abs, list(self.pool))
        self.cursor = self.local_top
        self.sv = {}
        self.held = set()
        self.skip = self.b.new_label("skip")
        try:
            fn(self)
            if max_len is not None and len(self.b) > max_len:
                raise NoRoom("too long")
        except NoRoom:
            bcp, nt, ns, nm, fl, la, pool = cp
            self.b.rollback(bcp)
            del self.tags[nt:]
            del self.subprogs[ns:]
            del self.maps[nm:]
            self.flaws, self.use_ld_abs, self.pool = fl, la, pool
            return False
        if self.b.used(self.skip) and self.rng.percent(EXIT_STUB_PCT):
            # failed checks of this block end the program instead of joining the next block
            after = self.b.new_label("cont")
            self.b.goto(after)
            self.b.label(self.skip)
            self.b.mov_imm(0, self.rng.pick(self.p.returns))
            self.b.exit()
            self.b.label(after)
        else:
            self.b.label(self.skip)
        self.block_no += 1
        if self.flaw_block == self.block_no - 1 and self.flaws == 0:
            self.flaw_block += 1  # the block had no place for a flaw: try the next one
        return True

    # --- samples -----------------------------------------------------------------
    def samples(self, kind: str | tuple[int, int]) -> list[int]:
        """NS run-time values of a fresh unknown of ``kind`` (edge values first)."""
        rng = self.rng
        if isinstance(kind, tuple):
            lo, hi = kind
            edge = [lo, hi, (lo + hi) // 2]
            rest = [rng.between(lo, hi) for _ in range(NS - len(edge))]
            return [v & M64 for v in edge + rest]
        if kind == "u64":
            edge = [0, 1, M64, 1 << 63, (1 << 63) - 1, M32, 1 << 32]
            return edge + [rng.bits(64) for _ in range(NS - len(edge))]
        if kind.startswith("u"):
            bits = int(kind[1:])
            m = (1 << bits) - 1
            edge = [0, 1, m, 1 << (bits - 1), m >> 1]
            return edge + [rng.bits(bits) for _ in range(NS - len(edge))]
        if kind.startswith("s"):
            bits = int(kind[1:])
            return [sext(v, bits) for v in self.samples(f"u{bits}")]
        if kind.startswith("c"):
            return [int(kind[1:]) & M64] * NS
        raise ValueError(kind)

    def filter(self, keep: list[bool]) -> None:
        """Keep the sample environments where ``keep`` holds (all of them if none would be left)."""
        if not any(keep):
            return
        for r, vals in self.sv.items():
            self.sv[r] = [v for v, k in zip(vals, keep) if k]

    def srange(self, reg: int) -> tuple[int, int]:
        """Signed min and max of the samples of ``reg`` ((0, 0) when no sample is left)."""
        vals = [signed(v) for v in self.sv.get(reg, ())]
        return (min(vals), max(vals)) if vals else (0, 0)

    def n_samples(self) -> int:
        return len(next(iter(self.sv.values()))) if self.sv else NS

    # --- ALU with samples ----------------------------------------------------------
    def op_imm(self, op: int, dst: int, imm: int, is64: bool = True, off: int = 0) -> None:
        self.b.alu_imm(op, dst, imm, is64, off)
        src = imm & M64 if is64 else imm & M32
        self.sv[dst] = [alu(op, is64, v, src, off) for v in self.sv.get(dst, [0] * self.n_samples())]

    def op_reg(self, op: int, dst: int, src: int, is64: bool = True, off: int = 0) -> None:
        self.b.alu_reg(op, dst, src, is64, off)
        n = self.n_samples()
        d, s = self.sv.get(dst, [0] * n), self.sv.get(src, [0] * n)
        self.sv[dst] = [alu(op, is64, a, c, off) for a, c in zip(d, s)]

    def op_end(self, kind: str, width: int, dst: int) -> None:
        self.b.endian(kind, width, dst)
        self.sv[dst] = [end(kind, width, v) for v in self.sv.get(dst, [0] * self.n_samples())]

    def set_const(self, reg: int, value: int) -> None:
        if -(1 << 31) <= value < (1 << 31):
            self.b.mov_imm(reg, value)
        else:
            self.b.ld_imm64(reg, value)
        self.sv[reg] = [value & M64] * self.n_samples()

    def mov(self, dst: int, src: int, is64: bool = True) -> None:
        self.op_reg(BPF_MOV, dst, src, is64)

    # --- unknown scalars -----------------------------------------------------------------
    def unknown(self, reg: int) -> str:
        """Load an unknown scalar into ``reg`` without a call; returns its sample kind."""
        rng, b = self.rng, self.b
        choices: list[tuple[str, int]] = [("ctx", 4)]
        if self.pool:
            choices += [("pool", 6), ("pool32", 2), ("poolsx", 1)]
        how = rng.weighted(choices)
        if how == "ctx":
            off = rng.pick(self.p.ctx_fields)
            size = self.p.ctx_field_size
            b.ldx(size, reg, 6, off)
            kind = f"u{size * 8}"
            self.tag("ctx")
        else:
            off, slot_kind = rng.pick(self.pool)
            if how == "pool":
                b.ldx(8, reg, 10, off)
                kind = slot_kind
            elif how == "pool32":
                b.ldx(4, reg, 10, off)
                kind = "u32" if slot_kind in ("u64", "u32") else slot_kind
            else:
                bits = rng.pick((8, 16, 32))
                b.ldsx(bits // 8, reg, 10, off)
                kind = f"s{bits}"
            self.tag("spill")
            self.sv[reg] = self.samples(kind)
            # A fill can share the slot's id (a whole-register fill, or a narrower one of a
            # value that fits), so a later check on the register would also bound the pool
            # slot, differently on each path: the states could no longer be pruned where
            # blocks join, and paths would multiply. Mixing in a constant cuts the link.
            if how != "poolsx" and rng.percent(95):
                self.op_imm(BPF_XOR, reg, rng.bits(rng.pick((8, 16, 31))))
            return kind
        self.sv[reg] = self.samples(kind)
        return kind

    # --- maps ------------------------------------------------------------------------------
    def map_index(self, kind: str, min_value: int = 8) -> int:
        """Index of a map of ``kind`` (array, hash, direct) with a value of at least ``min_value`` bytes."""
        if not 0 < min_value <= MAX_VALUE_SIZE:
            raise NoRoom("value size")
        want = {"array": "array", "hash": "hash", "direct": "array"}[kind]
        for i, m in enumerate(self.maps):
            if m.type != map_type_num(want) or m.value_size < min_value:
                continue
            if (kind == "direct") != (m.max_entries == 1):
                continue
            return i
        if len(self.maps) >= MAX_MAPS:
            raise NoRoom("maps")
        rng = self.rng
        vsize = max(min_value, rng.pick((8, 16, 32, 48, 64, 64, 128, 256)))
        n = len(self.maps)
        if kind == "array":
            spec = MapSpec(f"arr{n}", map_type_num("array"), 4, vsize, rng.pick((2, 4, 16, 64)))
        elif kind == "hash":
            spec = MapSpec(f"hash{n}", map_type_num("hash"), rng.pick((4, 8, 16)), vsize, rng.pick((64, 256, 1024)))
        else:
            init = bytes(rng.bits(8) for _ in range(vsize)) if rng.percent(40) else None
            spec = MapSpec(f"data{n}", map_type_num("array"), 4, vsize, 1, init=init)
        self.maps.append(spec)
        self.tag("map")
        return n

    def lookup(self, dst: int, kind: str = "", min_value: int = 8, null_check: bool = True) -> Region:
        """``dst`` = a map value pointer (a lookup with a key on the stack). Clobbers r0-r5."""
        rng, b = self.rng, self.b
        kind = kind or rng.weighted((("array", 3), ("hash", 2)))
        idx = self.map_index(kind, min_value)
        spec = self.maps[idx]
        koff = self.alloc(max(8, spec.key_size))
        const_key = False
        if spec.type == map_type_num("array"):
            if rng.percent(70):
                key = rng.below(spec.max_entries + (1 if rng.percent(10) else 0))
                b.st(4, 10, koff, key)
                const_key = key < spec.max_entries
            else:
                r = self.pick(1)[0]
                self.unknown(r)
                b.alu_imm(BPF_AND, r, spec.max_entries - 1, False)
                b.stx(4, 10, r, koff)
        else:
            for o in range(0, spec.key_size, 4):
                if rng.percent(50):
                    b.st(4, 10, koff + o, rng.bits(8))
                else:
                    r = self.pick(1)[0]
                    self.unknown(r)
                    b.stx(4, 10, r, koff + o)
        b.ld_map(1, idx)
        b.mov(2, 10)
        b.alu_imm(BPF_ADD, 2, koff)
        b.call(P.MAP_LOOKUP)
        self.tag("helper")
        if null_check:
            if const_key and self.frontier(2):
                self.tag("null_elision")  # in-range constant key of an array: 6.14+ knows it is not NULL
            elif not const_key and rng.percent(25) and self.want_flaw():
                pass  # the flaw: the value pointer is used unchecked
            elif rng.percent(80):
                b.jmp_imm(BPF_JEQ, 0, 0, self.skip)
            else:
                ok = b.new_label("nn")
                b.jmp_imm(BPF_JNE, 0, 0, ok)
                b.goto(self.skip)
                b.label(ok)
        if dst != 0:
            b.mov(dst, 0)
        self.sv.clear()
        return Region("map", dst, spec.value_size, False, tight=True)

    # --- regions ----------------------------------------------------------------------------
    def stack_region(self, dst: int, size: int | None = None) -> Region:
        rng, b = self.rng, self.b
        size = size or rng.pick((8, 16, 24, 32, 48, 64, 64, 96, 128))
        off = self.alloc(size)
        how = rng.below(3)
        for o in range(0, size, 8):
            if how == 0 or (how == 2 and rng.percent(50)):
                b.st(8, 10, off + o, 0)
            else:
                b.st(8, 10, off + o, rng.bits(16))
        b.mov(dst, 10)
        b.alu_imm(BPF_ADD, dst, off)
        self.tag("stack")
        return Region("stack", dst, size, True, tight=off + size == 0)

    def direct_region(self, dst: int, min_value: int = 8, exact: bool = False) -> Region:
        """A map value by address (``map_value[M]+OFF``); ``exact``: exactly ``min_value`` bytes left."""
        idx = self.map_index("direct", min_value)
        spec = self.maps[idx]
        if exact:
            off0 = spec.value_size - min_value
        else:
            off0 = self.rng.below(spec.value_size - min_value + 1) & ~7 if self.rng.percent(30) else 0
        self.b.ld_map_value(dst, idx, off0)
        self.tag("map", "direct_value")
        return Region("direct", dst, spec.value_size - off0, False, tight=True)

    def pkt_region(self, dst: int, end_reg: int) -> Region:
        assert self.p.pkt is not None
        data, data_end = self.p.pkt
        self.b.ldx(4, dst, 6, data)
        self.b.ldx(4, end_reg, 6, data_end)
        self.tag("packet")
        return Region("pkt", dst, self.rng.pick((14, 34, 64, 128, 256)), False, True, end_reg)

    def region(self, dst: int, end_reg: int = -1, kinds: tuple[str, ...] = ()) -> Region:
        """A random region of one of ``kinds`` (any by default); a map lookup clobbers r0-r5."""
        opts = [("stack", 4), ("direct", 2), ("map", 4)]
        if self.p.pkt and end_reg >= 0:
            opts.append(("pkt", 4))
        if kinds:
            opts = [o for o in opts if o[0] in kinds] or opts
        kind = self.rng.weighted(opts)
        if kind == "stack":
            return self.stack_region(dst)
        if kind == "direct":
            return self.direct_region(dst)
        if kind == "map":
            return self.lookup(dst)
        return self.pkt_region(dst, end_reg)

    # --- bounds --------------------------------------------------------------------------
    def bound(self, idx: int, limit: int, align: int = 1, allow_flaw: bool = True, style: str = "") -> None:
        """Make 0 <= idx <= limit and idx % align == 0 hold (or, when flawed, nearly hold).

        ``limit`` >= 0. A failed check jumps to the block's skip label. After a
        correct guard the samples of ``idx`` are drawn afresh from what the guard
        guarantees (edges included), so later size decisions see the true extremes.
        """
        rng, b = self.rng, self.b
        amask = ~(align - 1)
        # a flaw only where the samples show the guard matters: the value can leave [0, limit]
        lo, hi = self.srange(idx)
        vals = self.sv.get(idx, [])
        flaws = (("off_by_one", 4 if hi >= limit + align else 0), ("wide_mask", 3 if hi > limit else 0),
                 ("signed_only", 3 if lo < 0 else 0), ("jmp32_only", 2 if any(v >> 32 for v in vals) else 0),
                 ("misalign", 2 if align > 1 and any(v % align for v in vals) else 0),
                 ("none", 1 if lo < 0 or hi > limit else 0))
        flaw = allow_flaw and any(w for _, w in flaws) and self.want_flaw()
        if flaw:
            style = rng.weighted(flaws)
        elif not style:
            style = rng.weighted((("mask", 8), ("jgt", 6), ("jge", 2), ("reg", 2), ("rreg", 1), ("signed", 2),
                                  ("zext32", 2), ("clamp", 2), ("shift", 1), ("jlt", 1)))
        if style not in ("mask", "shift", "wide_mask", "misalign", "none"):
            self.tag("branch")
        m = (1 << max(0, (limit + 1).bit_length() - 1)) - 1  # largest 2^k-1 <= limit
        if style in ("mask", "wide_mask", "misalign"):
            if style == "wide_mask":
                while (m & amask) <= limit:
                    m = m * 2 + 1  # a bit too many: now above limit
            self.op_imm(BPF_AND, idx, m & amask if style != "misalign" else m)
            self.tag("alu")
            if style == "mask":
                self.reseed(idx, 0, m, align, mask=m & amask)
            return
        if style == "shift":
            k = m.bit_length()
            if k:
                self.op_imm(BPF_LSH, idx, 64 - k)
                self.op_imm(BPF_RSH, idx, 64 - k)
            else:
                self.op_imm(BPF_AND, idx, 0)
            if align > 1:
                self.op_imm(BPF_AND, idx, amask)
            self.tag("shift", "alu")
            self.reseed(idx, 0, m, align, mask=m & amask)
            return
        lim = limit + align if style == "off_by_one" else limit
        if style in ("jgt", "off_by_one"):
            self.check_imm(idx, BPF_JGT, lim, False)
        elif style == "jge":
            self.check_imm(idx, BPF_JGE, lim + 1, False)
        elif style in ("reg", "rreg"):
            r = self.pick(1, avoid=[idx])[0]
            self.set_const(r, lim)
            if style == "reg":
                b.jmp_reg(BPF_JGT, idx, r, self.skip)
            else:
                b.jmp_reg(BPF_JLT, r, idx, self.skip)
            self.filter([not (v > lim) for v in self.sv[idx]])
        elif style == "signed":
            self.check_imm(idx, BPF_JSGT, lim, False)
            self.check_imm(idx, BPF_JSLT, 0, False)
        elif style == "signed_only":
            self.check_imm(idx, BPF_JSGT, lim, False)
        elif style == "zext32":
            self.op_reg(BPF_MOV, idx, idx, False)
            self.check_imm(idx, BPF_JGT, lim, True)
            self.tag("jmp32", "alu32")
        elif style == "jmp32_only":
            self.check_imm(idx, BPF_JGT, lim, True)
            self.tag("jmp32")
        elif style == "clamp":
            ok = b.new_label("cl")
            b.jmp_imm(BPF_JLE, idx, lim, ok)
            b.mov_imm(idx, lim)
            b.label(ok)
            self.sv[idx] = [v if v <= lim else lim for v in self.sv[idx]]
        elif style == "jlt":
            ok = b.new_label("in")
            b.jmp_imm(BPF_JLT, idx, lim + 1, ok)
            b.goto(self.skip)
            b.label(ok)
            self.filter([v <= lim for v in self.sv[idx]])
        if align > 1 and style != "none":
            self.op_imm(BPF_AND, idx, amask)
        if not flaw:
            self.reseed(idx, 0, lim, align)

    def reseed(self, reg: int, lo: int, hi: int, align: int = 1, mask: int | None = None) -> None:
        """New samples for ``reg``: values in [lo, hi] (multiples of ``align``; subsets of ``mask``).

        Only for a register whose value the block knows no relation of to other registers.
        """
        rng = self.rng
        n = NS
        for r, vals in self.sv.items():  # other registers: cycle the surviving environments
            if r != reg and vals and len(vals) < n:
                self.sv[r] = [vals[i % len(vals)] for i in range(n)]
        if mask is not None:
            vals = [mask, 0] + [rng.bits(64) & mask for _ in range(n - 2)]
        else:
            top = lo + (hi - lo) // align * align
            vals = [lo, top] + [lo + rng.below((hi - lo) // align + 1) * align for _ in range(n - 2)]
        self.sv[reg] = [v & M64 for v in vals]

    def check_imm(self, reg: int, op: int, imm: int, is32: bool) -> None:
        """``if reg OP imm goto skip``, filtering the samples to those that fall through."""
        self.b.jmp_imm(op, reg, imm, self.skip, is32)
        vals = self.sv.get(reg, [])
        taken = compare(op, vals, [imm & M64] * len(vals), is32)
        self.filter([not t for t in taken])

    def check_reg(self, a: int, op: int, c: int, is32: bool = False) -> None:
        """``if a OP c goto skip`` (registers), filtering the samples to those that fall through."""
        self.b.jmp_reg(op, a, c, self.skip, is32)
        self.filter([not t for t in compare(op, self.sv.get(a, []), self.sv.get(c, []), is32)])

    # --- accesses -------------------------------------------------------------------------
    def access(self, rg: Region, idx: int | None, size: int, off: int, op: str,
               val: int = -1, dst: int = -1) -> None:
        """Access ``size`` bytes at ``rg.base + idx + off``; ``op`` is load, store or store_imm.

        The base register is advanced by ``idx`` (or ``idx`` becomes the pointer:
        scalar += pointer). Packet accesses are preceded by the data_end check.
        """
        rng, b = self.rng, self.b
        p = rg.base
        if idx is not None:
            if rng.percent(15) and idx != p:
                b.alu_reg(BPF_ADD, idx, p)  # scalar += pointer gives a pointer too
                p = idx
            else:
                b.alu_reg(BPF_ADD, p, idx)
            self.tag("ptr_arith")
        if rg.kind == "pkt":
            self.pkt_check(rg, p, off + size)
        if op == "load":
            d = dst if dst >= 0 else p
            if rng.percent(15) and size < 8:
                b.ldsx(size, d, p, off)
            else:
                b.ldx(size, d, p, off)
            self.sv[d] = self.samples(f"u{size * 8}")
        elif op == "store":
            b.stx(size, p, val, off)
        elif op == "store_imm":
            b.st(size, p, off, rng.bits(12))
        else:
            raise ValueError(op)
        self.tag("memory")

    def pkt_check(self, rg: Region, p: int, need: int) -> None:
        """Jump to skip unless ``need`` bytes from the packet pointer ``p`` are in the packet."""
        rng, b = self.rng, self.b
        if self.want_flaw():
            need -= rng.between(1, min(need, 4))
        t = self.pick(1, avoid=[p, rg.end, rg.base])[0]
        b.mov(t, p)
        b.alu_imm(BPF_ADD, t, need)
        form = rng.below(4)
        if form == 0:
            b.jmp_reg(BPF_JGT, t, rg.end, self.skip)
        elif form == 1:
            b.jmp_reg(BPF_JLT, rg.end, t, self.skip)
        elif form == 2:
            ok = b.new_label("pk")
            b.jmp_reg(BPF_JLE, t, rg.end, ok)
            b.goto(self.skip)
            b.label(ok)
        else:
            ok = b.new_label("pk")
            b.jmp_reg(BPF_JGE, rg.end, t, ok)
            b.goto(self.skip)
            b.label(ok)
        self.sv.pop(t, None)
        self.tag("branch")


_UNSIGNED = {
    BPF_JEQ: lambda x, y: x == y, BPF_JNE: lambda x, y: x != y, BPF_JGT: lambda x, y: x > y,
    BPF_JGE: lambda x, y: x >= y, BPF_JLT: lambda x, y: x < y, BPF_JLE: lambda x, y: x <= y,
    BPF_JSET: lambda x, y: bool(x & y),
}
_SIGNED = {
    BPF_JSGT: lambda x, y: x > y, BPF_JSGE: lambda x, y: x >= y, BPF_JSLT: lambda x, y: x < y,
    BPF_JSLE: lambda x, y: x <= y,
}


def compare(op: int, xs: list[int], ys: list[int], is32: bool = False) -> list[bool]:
    """Run-time outcome of ``x OP y`` (a conditional jump's operation) for paired samples."""
    bits = 32 if is32 else 64
    mask = (1 << bits) - 1
    if op in _SIGNED:
        f = _SIGNED[op]
        return [f(signed(x, bits), signed(y, bits)) for x, y in zip(xs, ys)]
    f = _UNSIGNED[op]
    return [f(x & mask, y & mask) for x, y in zip(xs, ys)]


__all__ = ["Gen", "Region", "NoRoom", "Emitter", "NS", "MAIN_REGS", "SAVED_REGS", "LOCAL_AREA", "compare"]
