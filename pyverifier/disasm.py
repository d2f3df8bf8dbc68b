"""The kernel verifier log's instruction text, byte for byte.

``format_line(insns, idx)`` is what Linux 6.18 prints after ``N: `` for
instruction ``idx`` (``(b7) r0 = 0``); ``format_insn`` is the same without the
``(op) `` prefix (``r0 = 0``). Both are pure table look-ups per opcode: each of
the 256 opcode bytes has a precomputed formatter, so every byte formats to
*something* and nothing raises. Text was checked against the live 6.18 kernel
(tests/test_isa.py, tests/data/kernel_lines.txt); where the kernel has no text
of its own for a malformed instruction it prints ``BUG_xx``, ``BUG_st_xx``,
``BUG_ldx_xx`` or ``BUG_ld_xx`` (without the ``(op) `` prefix), and so do we.
Fields the kernel prints through an unset string table entry print as
``(null)``, as the kernel's printf does (only reachable for opcodes the kernel
refuses before it prints anything).

Deliberate differences from the kernel, for ``ld_imm64`` whose value the kernel
replaces by a kernel address before printing:

==========================  =======================  ============================
src                         kernel prints            pyverifier prints
==========================  =======================  ============================
1 BPF_PSEUDO_MAP_FD         ``0xffff8881...`` (map)  ``map[IDX]``
2 BPF_PSEUDO_MAP_VALUE      ``0xffff8881...`` (+off) ``map_value[IDX]+OFF``
3 BPF_PSEUDO_BTF_ID         ``0xffffffff...``        ``btf_id[ID]``
5 BPF_PSEUDO_MAP_IDX        ``0xffff8881...``        ``map_idx[IDX]``
6 BPF_PSEUDO_MAP_IDX_VALUE  ``0xffff8881...``        ``map_idx_value[IDX]+OFF``
==========================  =======================  ============================

(An unprivileged load prints ``0x0`` for sources 1 and 2.) ``IDX`` is the
instruction's ``imm`` (in a Program record: the index of the map in
``Program.maps``); ``OFF`` is the second slot's ``imm`` as an unsigned number.
Reports comparing logs must pass the kernel's log through
``normalize_log(log, insns)``, which rewrites those lines (in the instruction
trace and in the ``Live regs`` listing) into pyverifier's form using the
program's own instructions. ``BPF_PSEUDO_FUNC`` (src 4) prints the raw value as
the kernel does.

A kfunc call prints ``call NAME#BTF_ID``; the name comes from the optional
``kfuncs`` mapping (BTF id -> name), else ``kernel-function`` as the kernel
prints when it cannot name one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from .caches import keep
from .helper_ids import BPF_FUNC_MAX_ID, HELPER_NAMES
from .insn import Insn
from .opcodes import (
    BPF_ABS, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL,
    BPF_CMPXCHG, BPF_DIV, BPF_DW, BPF_END, BPF_FETCH, BPF_IMM, BPF_IND,
    BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MAY_GOTO,
    BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_NEG, BPF_NOSPEC,
    BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL,
    BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE,
    BPF_PSEUDO_MAP_VALUE, BPF_ST, BPF_STORE_REL, BPF_STX, BPF_TO_BE,
    BPF_X, BPF_XCHG, CALL as _CALL, EXIT, GOTOL, JA, LD_IMM64, MAY_GOTO,
)

__all__ = [
    "format_line", "format_line_named", "format_lines", "format_insn", "normalize_log", "ld_imm64_value", "call_target_name",
    "KFUNC_UNNAMED", "NULL_TEXT",
]

NULL_TEXT = "(null)"  # what the kernel's printf shows for a missing string
KFUNC_UNNAMED = "kernel-function"

Formatter = Callable[[Insn, Sequence[Insn], int, "Mapping[int, str] | None"], str]

# --- string tables (indexed by op >> 4 / size >> 3) -------------------------
_ALU_OPS = (
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
    "neg", "%=", "^=", "=", "s>>=", "endian", None, None,
)
_ALU_SIGNED_OPS = {BPF_DIV: "s/=", BPF_MOD: "s%="}
_MOVSX = {8: "(s8)", 16: "(s16)", 32: "(s32)"}
_JMP_OPS = (
    "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=",
    "call", "exit", "<", "<=", "s<", "s<=", None, None,
)
_LDST = ("u32", "u16", "u8", "u64")
_LDSX = ("s32", "s16", "s8", None)
_ATOMIC_ALU_NAMES = {0x00: "add", 0x40: "or", 0x50: "and", 0xA0: "xor"}
_ATOMIC_ALU_OPS = {0x00: "+=", 0x40: "|=", 0x50: "&=", 0xA0: "^="}


def _s(text: str | None) -> str:
    return NULL_TEXT if text is None else text


def _u32(value: int) -> int:
    return value & 0xFFFFFFFF


# --- per-class formatter factories -----------------------------------------
def _alu_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    cls, op = code & 0x07, code & 0xF0
    r = "w" if cls == BPF_ALU else "r"
    opstr = _s(_ALU_OPS[op >> 4])
    signed = _ALU_SIGNED_OPS.get(op)
    if op == BPF_END:
        if cls == BPF_ALU64:
            return lambda i, s, x, k: f"{pre}r{i.dst} = bswap{i.imm} r{i.dst}"
        kind = "be" if code & BPF_TO_BE else "le"
        return lambda i, s, x, k: f"{pre}r{i.dst} = {kind}{i.imm} r{i.dst}"
    if op == BPF_NEG:
        return lambda i, s, x, k: f"{pre}{r}{i.dst} = -{r}{i.dst}"
    if code & BPF_X:
        is_mov64 = code == (BPF_ALU64 | BPF_MOV | BPF_X)

        def fmt_x(i: Insn, s: Sequence[Insn], x: int, k: Mapping[int, str] | None) -> str:
            if is_mov64 and i.off == BPF_ADDR_SPACE_CAST:
                imm = _u32(i.imm)
                return f"{pre}r{i.dst} = addr_space_cast(r{i.src}, {imm >> 16}, {imm & 0xFFFF})"
            ops = signed if signed and i.off == 1 else opstr
            sx = _MOVSX.get(i.off, "") if op == BPF_MOV else ""
            return f"{pre}{r}{i.dst} {ops} {sx}{r}{i.src}"

        return fmt_x

    def fmt_k(i: Insn, s: Sequence[Insn], x: int, k: Mapping[int, str] | None) -> str:
        ops = signed if signed and i.off == 1 else opstr
        return f"{pre}{r}{i.dst} {ops} {i.imm}"

    return fmt_k


def _stx_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    mode, size = code & 0xE0, (code & 0x18) >> 3
    sz = _LDST[size]
    bug = f"BUG_{code:02x}"
    if mode == BPF_MEM:
        return lambda i, s, x, k: f"{pre}*({sz} *)(r{i.dst} {i.off:+d}) = r{i.src}"
    if mode != BPF_ATOMIC:
        return lambda i, s, x, k: bug
    w64 = "64" if (code & 0x18) == BPF_DW else ""

    def fmt_atomic(i: Insn, s: Sequence[Insn], x: int, k: Mapping[int, str] | None) -> str:
        imm = i.imm
        mem = f"({sz} *)(r{i.dst} {i.off:+d})"
        if imm in _ATOMIC_ALU_OPS:
            return f"{pre}lock *{mem} {_ATOMIC_ALU_OPS[imm]} r{i.src}"
        if imm & BPF_FETCH and (imm & ~BPF_FETCH) in _ATOMIC_ALU_NAMES:
            name = _ATOMIC_ALU_NAMES[imm & ~BPF_FETCH]
            return f"{pre}r{i.src} = atomic{w64}_fetch_{name}({mem}, r{i.src})"
        if imm == BPF_CMPXCHG:
            return f"{pre}r0 = atomic{w64}_cmpxchg({mem}, r0, r{i.src})"
        if imm == BPF_XCHG:
            return f"{pre}r{i.src} = atomic{w64}_xchg({mem}, r{i.src})"
        if imm == BPF_LOAD_ACQ:
            return f"{pre}r{i.dst} = load_acquire(({sz} *)(r{i.src} {i.off:+d}))"
        if imm == BPF_STORE_REL:
            return f"{pre}store_release({mem}, r{i.src})"
        return bug

    return fmt_atomic


def _st_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    mode, sz = code & 0xE0, _LDST[(code & 0x18) >> 3]
    if mode == BPF_MEM:
        return lambda i, s, x, k: f"{pre}*({sz} *)(r{i.dst} {i.off:+d}) = {i.imm}"
    if mode == BPF_NOSPEC:
        text = f"{pre}nospec"
        return lambda i, s, x, k: text
    bug = f"BUG_st_{code:02x}"
    return lambda i, s, x, k: bug


def _ldx_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    mode, size = code & 0xE0, (code & 0x18) >> 3
    if mode == BPF_MEM:
        sz = _LDST[size]
    elif mode == BPF_MEMSX:
        sz = _s(_LDSX[size])
    else:
        bug = f"BUG_ldx_{code:02x}"
        return lambda i, s, x, k: bug
    return lambda i, s, x, k: f"{pre}r{i.dst} = *({sz} *)(r{i.src} {i.off:+d})"


def ld_imm64_value(insns: Sequence[Insn], idx: int) -> int:
    """The 64-bit unsigned value of the ld_imm64 at ``idx`` (high half 0 when truncated)."""
    hi = insns[idx + 1].imm if idx + 1 < len(insns) else 0
    return (_u32(hi) << 32) | _u32(insns[idx].imm)


def _ld_imm64_text(insns: Sequence[Insn], idx: int) -> str:
    """Right-hand side of an ld_imm64 as pyverifier prints it (see module doc)."""
    insn = insns[idx]
    src = insn.src
    if src == BPF_PSEUDO_MAP_FD:
        return f"map[{insn.imm}]"
    if src == BPF_PSEUDO_MAP_IDX:
        return f"map_idx[{insn.imm}]"
    if src == BPF_PSEUDO_BTF_ID:
        return f"btf_id[{insn.imm}]"
    if src in (BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_MAP_IDX_VALUE):
        hi = insns[idx + 1].imm if idx + 1 < len(insns) else 0
        name = "map_value" if src == BPF_PSEUDO_MAP_VALUE else "map_idx_value"
        return f"{name}[{insn.imm}]+{_u32(hi)}"
    return f"0x{ld_imm64_value(insns, idx):x}"


def _ld_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    mode, sz = code & 0xE0, _LDST[(code & 0x18) >> 3]
    if mode == BPF_ABS:
        return lambda i, s, x, k: f"{pre}r0 = *({sz} *)skb[{i.imm}]"
    if mode == BPF_IND:
        return lambda i, s, x, k: f"{pre}r0 = *({sz} *)skb[r{i.src} + {i.imm}]"
    if mode == BPF_IMM and (code & 0x18) == BPF_DW:
        return lambda i, s, x, k: f"{pre}r{i.dst} = {_ld_imm64_text(s, x)}"
    bug = f"BUG_ld_{code:02x}"
    return lambda i, s, x, k: bug


def call_target_name(insn: Insn, kfuncs: Mapping[int, str] | None = None) -> str:
    """The name printed in ``call NAME#IMM`` for a non bpf-to-bpf call."""
    if insn.src == 0 and 0 <= insn.imm < BPF_FUNC_MAX_ID:
        return HELPER_NAMES[insn.imm]
    if insn.src == BPF_PSEUDO_KFUNC_CALL:
        name = kfuncs.get(insn.imm) if kfuncs is not None else None
        return name if name is not None else KFUNC_UNNAMED
    return "unknown"


def _jmp_formatter(code: int) -> Formatter:
    pre = f"({code:02x}) "
    cls, op = code & 0x07, code & 0xF0
    if op == BPF_CALL:
        def fmt_call(i: Insn, s: Sequence[Insn], x: int, k: Mapping[int, str] | None) -> str:
            if i.src == BPF_PSEUDO_CALL:
                return f"{pre}call pc{i.imm:+d}"
            return f"{pre}call {call_target_name(i, k)}#{i.imm}"

        return fmt_call
    if code == JA:
        return lambda i, s, x, k: f"{pre}goto pc{i.off:+d}"
    if code == GOTOL:
        return lambda i, s, x, k: f"{pre}gotol pc{i.imm:+d}"
    if code == EXIT:
        text = f"{pre}exit"
        return lambda i, s, x, k: text
    r = "w" if cls == BPF_JMP32 else "r"
    opstr = _s(_JMP_OPS[op >> 4])
    if code & BPF_X:
        cond = lambda i, s, x, k: f"{pre}if {r}{i.dst} {opstr} {r}{i.src} goto pc{i.off:+d}"  # noqa: E731
    else:
        cond = lambda i, s, x, k: f"{pre}if {r}{i.dst} {opstr} 0x{_u32(i.imm):x} goto pc{i.off:+d}"  # noqa: E731
    if code != MAY_GOTO:
        return cond

    def fmt_jcond(i: Insn, s: Sequence[Insn], x: int, k: Mapping[int, str] | None) -> str:
        if i.src == BPF_MAY_GOTO:
            return f"{pre}may_goto pc{i.off:+d}"
        return cond(i, s, x, k)

    return fmt_jcond


_FACTORIES = {
    BPF_LD: _ld_formatter,
    BPF_LDX: _ldx_formatter,
    BPF_ST: _st_formatter,
    BPF_STX: _stx_formatter,
    BPF_ALU: _alu_formatter,
    BPF_JMP: _jmp_formatter,
    BPF_JMP32: _jmp_formatter,
    BPF_ALU64: _alu_formatter,
}
_FORMATTERS: tuple[Formatter, ...] = tuple(_FACTORIES[c & 0x07](c) for c in range(256))


# --- public API ------------------------------------------------------------
# the text of an instruction depends on the instruction alone, except for ld_imm64 (it reads the
# next slot) and kfunc calls (named from ``kfuncs``): texts of the others are kept by value
_LINE_CACHE: dict[Insn, str] = {}
_LINE_CACHE_MAX = 1 << 16


def format_line(insns: Sequence[Insn], idx: int, kfuncs: Mapping[int, str] | None = None) -> str:
    """The kernel's text for instruction ``idx``, e.g. ``(b7) r0 = 0`` (no index, no newline)."""
    insn = insns[idx]
    if kfuncs is None and insn.code != LD_IMM64 and not (insn.code == _CALL and insn.src == BPF_PSEUDO_KFUNC_CALL):
        text = _LINE_CACHE.get(insn)
        if text is None:
            text = keep(_LINE_CACHE, insn, _FORMATTERS[insn.code & 0xFF](insn, insns, idx, None), _LINE_CACHE_MAX)
        return text
    return _FORMATTERS[insn.code & 0xFF](insn, insns, idx, kfuncs)


def format_line_named(insns: Sequence[Insn], idx: int, kfuncs_of: Callable[[int], Mapping[int, str]]) -> str:
    """``format_line`` of instruction ``idx`` with, for a kfunc call, the names ``kfuncs_of(imm)``."""
    insn = insns[idx]
    if insn.code == _CALL and insn.src == BPF_PSEUDO_KFUNC_CALL:
        return format_line(insns, idx, kfuncs_of(insn.imm))
    return format_line(insns, idx)


def format_lines(insns: Sequence[Insn], kfuncs_of: Callable[[int], Mapping[int, str]]) -> list[str | None]:
    """``format_line`` of every instruction (None for the second half of an ld_imm64);
    ``kfuncs_of(imm)``: the names a kfunc call's text takes (``format_line``'s ``kfuncs``)."""
    out: list[str | None] = [_LINE_CACHE.get(insn) for insn in insns]  # kept texts: most of them
    i = 0
    left = out.count(None)
    while left:  # the others, found without a Python loop over the kept ones
        i = out.index(None, i)
        out[i] = format_line_named(insns, i, kfuncs_of)
        left -= 1
        if insns[i].code == LD_IMM64:  # its second half is no instruction of its own: left None
            if i + 1 < len(out) and out[i + 1] is None:
                left -= 1
            i += 2
        else:
            i += 1
    return out


def format_insn(insns: Sequence[Insn], idx: int, kfuncs: Mapping[int, str] | None = None) -> str:
    """Like ``format_line`` without the ``(op) `` prefix, e.g. ``r0 = 0``."""
    line = format_line(insns, idx, kfuncs)
    return line[5:] if line[0] == "(" else line


# --- normalizing the kernel's log -------------------------------------------
_ADDR_PSEUDO_SRCS = frozenset(
    (BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_BTF_ID,
     BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE)
)
_LD_IMM64_LINE = re.compile(
    r"^(?P<head>(?:\s*(?:\d+ +)?|mark_precise: .*? before )(?P<idx>\d+): (?:[.0-9]{10} )?\(18\) r\d+ = )"
    r"(?P<val>0x[0-9a-f]+)",
    re.MULTILINE,
)


def normalize_log(log: str, insns: Sequence[Insn]) -> str:
    """Rewrite the kernel addresses the kernel prints for map/BTF ld_imm64 into pyverifier's form.

    Lines ``N: (18) rD = 0x...`` (trace), ``mark_precise: ... before N: (18) rD = 0x...``
    (precision backtracking) and ``  [SCC] N: <liveness> (18) rD = 0x...``
    (``Live regs`` listing, where instructions inside a loop carry the number of
    their strongly connected component before the index) are rewritten when instruction ``N`` of ``insns`` is an
    ``ld_imm64`` whose source is a map, map value or BTF variable; every other
    line is left as it is.
    """
    if not any(insn.code == LD_IMM64 and insn.src in _ADDR_PSEUDO_SRCS for insn in insns):
        return log  # nothing to rewrite: skip scanning a log that may be tens of megabytes
    n = len(insns)

    def repl(m: re.Match[str]) -> str:
        idx = int(m.group("idx"))
        if idx < n:
            insn = insns[idx]
            if insn.code == LD_IMM64 and insn.src in _ADDR_PSEUDO_SRCS:
                return m.group("head") + _ld_imm64_text(insns, idx)
        return m.group(0)

    return _LD_IMM64_LINE.sub(repl, log)
