"""Text syntax of BPF programs: the kernel verifier log's instruction text, read back.

``assemble(text, maps)`` turns text into ``Insn`` slots; ``disassemble(insns, maps)``
turns slots into text that assembles back to the same bytes.

Each line holds one instruction exactly as the kernel prints it (see disasm.py),
optionally preceded by the log's ``N: `` index, the ``Live regs`` liveness column
and the ``(op) `` opcode (checked against the instruction it is written with),
and optionally followed by the log's `` ; R0=...`` state comment. Blank lines,
lines starting with ``#`` and everything after ``//`` are ignored.

Notes on the kernel's syntax: a hexadecimal ``rD = 0x...`` is a ``ld_imm64`` (the
kernel prints ``mov`` immediates in decimal and ``ld_imm64`` values in hex; write
``rD = N ll`` for a decimal ``ld_imm64``); ``call NAME#ID`` is a helper call when
NAME is a helper (``unknown#ID`` too) and a kfunc call (BTF id ``ID``) otherwise.

Extensions for hand-written programs:

* labels: ``name:`` alone on a line; ``goto name``, ``gotol name``,
  ``may_goto name``, ``if r1 > 3 goto name``, ``call name`` (bpf-to-bpf call
  to the label; a label wins over a helper of the same name) and
  ``rD = func[name]`` (``ld_imm64`` of a callback, src BPF_PSEUDO_FUNC; also
  ``func[pc+N]``);
* ``call NAME`` without ``#ID``: a helper by name (with or without ``bpf_``),
  or a kfunc named in the ``kfuncs`` argument (name -> BTF id);
* map references, where ``X`` is a name from ``maps`` or a literal index:
  ``rD = map[X]`` (src BPF_PSEUDO_MAP_FD, imm = index),
  ``rD = map_value[X]+OFF`` (src BPF_PSEUDO_MAP_VALUE, second imm = OFF),
  ``rD = map_idx[N]``, ``rD = map_idx_value[N]+OFF`` (fd_array indices) and
  ``rD = btf_id[ID]`` (BTF variable);
* ``.insn code=0xCC dst=D src=S off=O imm=I``: one raw slot, for anything the
  syntax cannot express (reserved fields set, a lone ``ld_imm64`` half, ...).

Errors raise ``AsmError`` naming the line number and the line.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .disasm import format_insn
from .helper_ids import HELPER_IDS, helper_id
from .insn import Insn
from .opcodes import (
    BPF_ABS, BPF_ADD, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH,
    BPF_ATOMIC, BPF_B, BPF_CMPXCHG, BPF_DIV, BPF_DW, BPF_END, BPF_FETCH, BPF_H,
    BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32,
    BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_K, BPF_LD,
    BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV,
    BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
    BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
    BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_RSH, BPF_ST,
    BPF_STORE_REL, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_TO_LE, BPF_W, BPF_X,
    BPF_XCHG, BPF_XOR, CALL, EXIT, GOTOL, JA, LD_IMM64, MAY_GOTO,
)

__all__ = ["AsmError", "assemble", "disassemble"]


class AsmError(ValueError):
    """A line of assembly text could not be read."""

    def __init__(self, lineno: int, line: str, reason: str) -> None:
        super().__init__(f"line {lineno}: {reason}: {line.strip()!r}")
        self.lineno = lineno
        self.line = line
        self.reason = reason


class _Bad(Exception):
    """Raised inside the statement parser; turned into AsmError with the line."""


# --- lexical pieces ----------------------------------------------------------
_UNUM = r"(?:0[xX][0-9a-fA-F]+|\d+)"
_NUM = rf"[-+]?{_UNUM}"
_LABEL = r"[A-Za-z_.$][\w.$]*"
_TARGET = rf"(?:pc(?P<pc>[-+]\d+)|(?P<label>{_LABEL}))"
_MEM = rf"\((?P<size>[us]\d+) \*\)\(r(?P<base>\d+)\s*(?:(?P<sign>[-+])\s*(?P<off>{_UNUM}))?\)"

_NUM_RE = re.compile(_NUM)
_LABEL_RE = re.compile(_LABEL)
_PC_RE = re.compile(r"pc([-+]\d+)")

MapIndex = Mapping[str, int]  # map name -> index in the program's maps


def _map_index(maps: Sequence[str] | None) -> dict[str, int]:
    """Name -> index; the first of two maps with one name wins."""
    index: dict[str, int] = {}
    for i, name in enumerate(maps or ()):
        index.setdefault(name, i)
    return index


_SIZES = {"u8": BPF_B, "u16": BPF_H, "u32": BPF_W, "u64": BPF_DW}
_SX_SIZES = {"s8": BPF_B, "s16": BPF_H, "s32": BPF_W}
_ALU_OPS = {
    "+=": BPF_ADD, "-=": BPF_SUB, "*=": BPF_MUL, "/=": BPF_DIV, "|=": BPF_OR,
    "&=": BPF_AND, "<<=": BPF_LSH, ">>=": BPF_RSH, "%=": BPF_MOD, "^=": BPF_XOR,
    "=": BPF_MOV, "s>>=": BPF_ARSH, "s/=": BPF_DIV, "s%=": BPF_MOD,
}
_JMP_OPS = {
    "==": BPF_JEQ, ">": BPF_JGT, ">=": BPF_JGE, "&": BPF_JSET, "!=": BPF_JNE,
    "s>": BPF_JSGT, "s>=": BPF_JSGE, "<": BPF_JLT, "<=": BPF_JLE, "s<": BPF_JSLT,
    "s<=": BPF_JSLE,
}
_ATOMIC_NAMES = {"add": BPF_ADD, "or": BPF_OR, "and": BPF_AND, "xor": BPF_XOR}
_LOCK_OPS = {"+=": BPF_ADD, "|=": BPF_OR, "&=": BPF_AND, "^=": BPF_XOR}
_MOVSX = {"s8": 8, "s16": 16, "s32": 32}

# prefix the kernel log puts before the instruction
_PREFIX = re.compile(r"^\s*(?:\d+\s+)?\d+:\s+(?:[.0-9]{10}\s+)?")  # [scc] index: [liveness]
_OPCODE = re.compile(r"^\(([0-9a-fA-F]{2})\)\s+")
_LABEL_DEF = re.compile(rf"^({_LABEL}):$")

_RE_GOTO = re.compile(rf"^(goto|gotol|may_goto) {_TARGET}$")
_RE_CALL = re.compile(rf"^call (?:pc(?P<pc>[-+]\d+)|(?P<name>[\w.$-]*)(?:#(?P<id>{_NUM}))?)$")
_RE_IF = re.compile(
    rf"^if (?P<w>[rw])(?P<dst>\d+) (?P<op>[^ ]+) (?:(?P<sw>[rw])(?P<src>\d+)|(?P<imm>{_NUM})) goto {_TARGET}$"
)
_RE_LOCK = re.compile(rf"^lock \*{_MEM} (?P<op>[-+|&^]=) r(?P<src>\d+)$")
_RE_STORE_REL = re.compile(rf"^store_release\({_MEM}, r(?P<src>\d+)\)$")
_RE_STORE = re.compile(rf"^\*{_MEM} = (?:r(?P<src>\d+)|(?P<imm>{_NUM}))$")
_RE_RAW = re.compile(
    rf"^\.insn code=(?P<code>{_NUM}) dst=(?P<dst>{_NUM}) src=(?P<src>{_NUM}) off=(?P<off>{_NUM}) imm=(?P<imm>{_NUM})$"
)
_RE_ASSIGN = re.compile(r"^(?P<w>[rw])(?P<dst>\d+) (?P<op>[^ ]+) (?P<rhs>.+)$")

# right-hand sides of "rD = ..."
_RHS_REG = re.compile(r"^(?P<w>[rw])(?P<src>\d+)$")
_RHS_NUM = re.compile(rf"^(?P<num>{_NUM})(?P<ll> ll)?$")
_RHS_NEG = re.compile(r"^-(?P<w>[rw])(?P<src>\d+)$")
_RHS_MOVSX = re.compile(r"^\((?P<sx>s8|s16|s32)\)(?P<w>[rw])(?P<src>\d+)$")
_RHS_CAST = re.compile(rf"^addr_space_cast\(r(?P<src>\d+), (?P<a>{_NUM}), (?P<b>{_NUM})\)$")
_RHS_END = re.compile(rf"^(?P<kind>bswap|le|be)(?P<imm>{_NUM}) r(?P<src>\d+)$")
_RHS_LOAD = re.compile(rf"^\*{_MEM}$")
_RHS_SKB = re.compile(rf"^\*\((?P<size>u\d+) \*\)skb\[(?:r(?P<src>\d+) \+ )?(?P<imm>{_NUM})\]$")
_RHS_ATOMIC = re.compile(
    rf"^atomic(?P<w64>64)?_(?P<op>fetch_(?:add|or|and|xor)|xchg|cmpxchg)\({_MEM}, "
    r"r(?P<a>\d+)(?:, r(?P<b>\d+))?\)$"
)
_RHS_LOAD_ACQ = re.compile(rf"^load_acquire\({_MEM}\)$")
_RHS_PSEUDO = re.compile(
    r"^(?P<kind>map|map_value|map_idx|map_idx_value|btf_id|func)\[(?P<ref>[^\]]+)\]"
    rf"(?:\+(?P<off>{_NUM}))?$"
)


# --- numbers and registers --------------------------------------------------
def _int(text: str) -> int:
    """A decimal or 0x-hexadecimal number, with optional sign."""
    return int(text, 16) if "x" in text or "X" in text else int(text, 10)


def _s32(value: int, what: str = "immediate") -> int:
    if not -(1 << 31) <= value < (1 << 32):
        raise _Bad(f"{what} {value} does not fit in 32 bits")
    return value - (1 << 32) if value >= (1 << 31) else value


def _s16(value: int) -> int:
    if not -(1 << 15) <= value < (1 << 15):
        raise _Bad(f"offset {value} does not fit in a signed 16-bit field")
    return value


def _reg(text: str | None) -> int:
    n = int(text or 0)
    if n > 15:
        raise _Bad(f"register r{n} does not fit in 4 bits")
    return n


def _mem(m: re.Match[str]) -> tuple[int, int]:
    """Base register and offset of a ``(uN *)(rB +OFF)`` operand."""
    off = _int(m.group("off")) if m.group("off") else 0
    return _reg(m.group("base")), _s16(-off if m.group("sign") == "-" else off)


def _size(m: re.Match[str], table: Mapping[str, int] = _SIZES) -> int:
    size = table.get(m.group("size"))
    if size is None:
        raise _Bad(f"unknown access size {m.group('size')}")
    return size


# --- pending label references ------------------------------------------------
class _Stmt:
    """One parsed statement: its slots and, maybe, a label it still needs."""

    __slots__ = ("insns", "label", "kind", "lineno", "line")

    def __init__(self, insns: list[Insn], label: str | None = None, kind: str = "") -> None:
        self.insns = insns
        self.label = label  # label or call name resolved in pass 2
        self.kind = kind  # "off", "imm", "call", "func"
        self.lineno = 0
        self.line = ""


def _jump_target(m: re.Match[str], code: int, dst: int = 0, src: int = 0, imm: int = 0) -> _Stmt:
    """A jump whose offset is ``pc+N`` or a label; ``gotol`` keeps it in imm."""
    in_imm = code == GOTOL
    if m.group("label") is not None:
        return _Stmt([Insn(code, dst, src, 0, imm)], m.group("label"), "imm" if in_imm else "off")
    pc = _int(m.group("pc"))
    if in_imm:
        return _Stmt([Insn(code, dst, src, 0, _s32(pc, "jump offset"))])
    return _Stmt([Insn(code, dst, src, _s16(pc), imm)])


# --- statement parsers --------------------------------------------------------
def _parse_goto(s: str) -> _Stmt:
    m = _RE_GOTO.match(s)
    if not m:
        raise _Bad("malformed jump")
    code = {"goto": JA, "gotol": GOTOL, "may_goto": MAY_GOTO}[m.group(1)]
    return _jump_target(m, code)


def _parse_call(s: str, kfuncs: Mapping[str, int] | None) -> _Stmt:
    m = _RE_CALL.match(s)
    if not m:
        raise _Bad("malformed call")
    if m.group("pc") is not None:
        return _Stmt([Insn(CALL, 0, BPF_PSEUDO_CALL, 0, _s32(_int(m.group("pc")), "call offset"))])
    name, ident = m.group("name"), m.group("id")
    if ident is None:
        if not name:
            raise _Bad("malformed call")
        return _Stmt([Insn(CALL, 0, 0, 0, 0)], name, "call")
    if not name:  # ``call #ID``: a kfunc whose BTF type has no name (the log prints BTF id 0 so)
        return _Stmt([Insn(CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, _s32(_int(ident), "call id"))])
    imm = _s32(_int(ident), "call id")
    if name == "unknown":
        return _Stmt([Insn(CALL, 0, 0, 0, imm)])
    hid = HELPER_IDS.get(name)
    if hid is not None and hid != imm:  # no kfunc can share a helper's (bpf_) name
        raise _Bad(f"helper {name} has id {hid}, not {imm}")
    if hid is None and helper_id(name) == imm:  # helper written without bpf_
        hid = imm
    src = 0 if hid is not None else BPF_PSEUDO_KFUNC_CALL
    return _Stmt([Insn(CALL, 0, src, 0, imm)])


def _parse_if(s: str) -> _Stmt:
    m = _RE_IF.match(s)
    if not m:
        raise _Bad("malformed conditional jump")
    op = _JMP_OPS.get(m.group("op"))
    if op is None:
        raise _Bad(f"unknown comparison {m.group('op')}")
    cls = BPF_JMP32 if m.group("w") == "w" else BPF_JMP
    dst = _reg(m.group("dst"))
    if m.group("src") is not None:
        if m.group("sw") != m.group("w"):
            raise _Bad("both registers of a comparison must be r or both w")
        return _jump_target(m, cls | op | BPF_X, dst, _reg(m.group("src")))
    return _jump_target(m, cls | op | BPF_K, dst, 0, _s32(_int(m.group("imm"))))


def _parse_lock(s: str) -> _Stmt:
    m = _RE_LOCK.match(s)
    if not m or m.group("op") not in _LOCK_OPS:
        raise _Bad("malformed atomic operation")
    base, off = _mem(m)
    code = BPF_STX | BPF_ATOMIC | _size(m)
    return _Stmt([Insn(code, base, _reg(m.group("src")), off, _LOCK_OPS[m.group("op")])])


def _parse_store_release(s: str) -> _Stmt:
    m = _RE_STORE_REL.match(s)
    if not m:
        raise _Bad("malformed store_release")
    base, off = _mem(m)
    return _Stmt([Insn(BPF_STX | BPF_ATOMIC | _size(m), base, _reg(m.group("src")), off, BPF_STORE_REL)])


def _parse_store(s: str) -> _Stmt:
    m = _RE_STORE.match(s)
    if not m:
        raise _Bad("malformed store")
    base, off = _mem(m)
    size = _size(m)
    if m.group("src") is not None:
        return _Stmt([Insn(BPF_STX | BPF_MEM | size, base, _reg(m.group("src")), off, 0)])
    return _Stmt([Insn(BPF_ST | BPF_MEM | size, base, 0, off, _s32(_int(m.group("imm"))))])


def _parse_raw(s: str) -> _Stmt:
    m = _RE_RAW.match(s)
    if not m:
        raise _Bad("malformed .insn (want .insn code=0xCC dst=D src=S off=O imm=I)")
    code, dst, src = (_int(m.group(k)) for k in ("code", "dst", "src"))
    if not 0 <= code < 256 or not 0 <= dst < 16 or not 0 <= src < 16:
        raise _Bad("code must fit in 8 bits, dst and src in 4 bits")
    return _Stmt([Insn(code, dst, src, _s16(_int(m.group("off"))), _s32(_int(m.group("imm"))))])


def _ld_imm64(dst: int, src: int, value: int, hi_imm: int | None = None) -> list[Insn]:
    if hi_imm is None:
        if not -(1 << 63) <= value < (1 << 64):
            raise _Bad(f"value {value} does not fit in 64 bits")
        value &= (1 << 64) - 1
        lo, hi = value & 0xFFFFFFFF, value >> 32
        return [Insn(LD_IMM64, dst, src, 0, _s32(lo)), Insn(0, 0, 0, 0, _s32(hi))]
    return [Insn(LD_IMM64, dst, src, 0, _s32(value)), Insn(0, 0, 0, 0, _s32(hi_imm, "offset"))]


_PSEUDO_SRC = {
    "map": BPF_PSEUDO_MAP_FD,
    "map_value": BPF_PSEUDO_MAP_VALUE,
    "map_idx": BPF_PSEUDO_MAP_IDX,
    "map_idx_value": BPF_PSEUDO_MAP_IDX_VALUE,
    "btf_id": BPF_PSEUDO_BTF_ID,
}


def _parse_pseudo(dst: int, m: re.Match[str], maps: MapIndex) -> _Stmt:
    kind, ref, off = m.group("kind"), m.group("ref").strip(), m.group("off")
    if kind == "func":
        if off is not None:
            raise _Bad("func[...] takes no offset")
        pc = _PC_RE.fullmatch(ref)
        if pc:
            return _Stmt(_ld_imm64(dst, BPF_PSEUDO_FUNC, _int(pc.group(1)), 0))
        if not _LABEL_RE.fullmatch(ref):
            raise _Bad(f"bad func reference {ref!r}")
        return _Stmt(_ld_imm64(dst, BPF_PSEUDO_FUNC, 0, 0), ref, "func")
    has_off = kind in ("map_value", "map_idx_value")
    if off is not None and not has_off:
        raise _Bad(f"{kind}[...] takes no offset")
    if _NUM_RE.fullmatch(ref):
        index = _int(ref)
    elif kind in ("map", "map_value") and ref in maps:
        index = maps[ref]
    else:
        raise _Bad(f"unknown map {ref!r}" if kind.startswith("map") else f"bad BTF id {ref!r}")
    return _Stmt(_ld_imm64(dst, _PSEUDO_SRC[kind], index, _int(off) if off else 0))


def _parse_mov_rhs(w: str, dst: int, rhs: str, maps: MapIndex) -> _Stmt:
    """``rD = RHS``: everything the kernel prints with a plain ``=``."""
    alu = BPF_ALU if w == "w" else BPF_ALU64
    m = _RHS_REG.match(rhs)
    if m:
        if m.group("w") != w:
            raise _Bad("both registers of a move must be r or both w")
        return _Stmt([Insn(alu | BPF_MOV | BPF_X, dst, _reg(m.group("src")), 0, 0)])
    m = _RHS_NUM.match(rhs)
    if m:
        num = m.group("num")
        if m.group("ll") or num.lstrip("+-")[:2].lower() == "0x":
            if w == "w":
                raise _Bad("a 64-bit load needs an r register")
            return _Stmt(_ld_imm64(dst, 0, _int(num)))
        return _Stmt([Insn(alu | BPF_MOV | BPF_K, dst, 0, 0, _s32(_int(num)))])
    m = _RHS_NEG.match(rhs)
    if m:
        if m.group("w") != w or _reg(m.group("src")) != dst:
            raise _Bad("negation must be of the destination register itself")
        return _Stmt([Insn(alu | BPF_NEG, dst, 0, 0, 0)])
    m = _RHS_MOVSX.match(rhs)
    if m:
        if m.group("w") != w:
            raise _Bad("both registers of a move must be r or both w")
        return _Stmt([Insn(alu | BPF_MOV | BPF_X, dst, _reg(m.group("src")), _MOVSX[m.group("sx")], 0)])
    if w == "w":
        raise _Bad("unknown instruction")
    return _parse_r_rhs(dst, rhs, maps)


def _parse_r_rhs(dst: int, rhs: str, maps: MapIndex) -> _Stmt:
    """``rD = RHS`` forms only written with an r register."""
    m = _RHS_LOAD.match(rhs)
    if m:
        base, off = _mem(m)
        if m.group("size") in _SX_SIZES:
            return _Stmt([Insn(BPF_LDX | BPF_MEMSX | _size(m, _SX_SIZES), dst, base, off, 0)])
        return _Stmt([Insn(BPF_LDX | BPF_MEM | _size(m), dst, base, off, 0)])
    m = _RHS_PSEUDO.match(rhs)
    if m:
        return _parse_pseudo(dst, m, maps)
    m = _RHS_END.match(rhs)
    if m:
        if _reg(m.group("src")) != dst:
            raise _Bad("a byte swap must be of the destination register itself")
        code = {"bswap": BPF_ALU64 | BPF_END | BPF_TO_LE, "le": BPF_ALU | BPF_END | BPF_TO_LE,
                "be": BPF_ALU | BPF_END | BPF_TO_BE}[m.group("kind")]
        return _Stmt([Insn(code, dst, 0, 0, _s32(_int(m.group("imm"))))])
    m = _RHS_ATOMIC.match(rhs)
    if m:
        return _atomic(dst, m)
    m = _RHS_LOAD_ACQ.match(rhs)
    if m:
        base, off = _mem(m)
        return _Stmt([Insn(BPF_STX | BPF_ATOMIC | _size(m), dst, base, off, BPF_LOAD_ACQ)])
    m = _RHS_SKB.match(rhs)
    if m:
        if dst != 0:
            raise _Bad("packet loads always load into r0")
        mode = BPF_ABS if m.group("src") is None else BPF_IND
        return _Stmt([Insn(BPF_LD | mode | _size(m), 0, _reg(m.group("src")), 0, _s32(_int(m.group("imm"))))])
    m = _RHS_CAST.match(rhs)
    if m:
        a, b = _int(m.group("a")), _int(m.group("b"))
        if not (0 <= a < 1 << 16 and 0 <= b < 1 << 16):
            raise _Bad("address spaces must fit in 16 bits")
        return _Stmt([Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, _reg(m.group("src")),
                           BPF_ADDR_SPACE_CAST, _s32((a << 16) | b))])
    raise _Bad("unknown instruction")


def _atomic(dst: int, m: re.Match[str]) -> _Stmt:
    """``rS = atomic[64]_OP((uN *)(rB +OFF), ...)``; the printed dst is the src register."""
    base, off = _mem(m)
    size = _size(m)
    if bool(m.group("w64")) != (size == BPF_DW):
        raise _Bad("atomic64_ goes with u64, atomic_ with u32")
    op, a, b = m.group("op"), _reg(m.group("a")), m.group("b")
    if op == "cmpxchg":
        if dst != 0 or a != 0 or b is None:
            raise _Bad("cmpxchg is written r0 = atomic_cmpxchg((uN *)(rB +OFF), r0, rS)")
        return _Stmt([Insn(BPF_STX | BPF_ATOMIC | size, base, _reg(b), off, BPF_CMPXCHG)])
    if b is not None or a != dst:
        raise _Bad("the result register must be the operand register")
    imm = BPF_XCHG if op == "xchg" else _ATOMIC_NAMES[op[6:]] | BPF_FETCH
    return _Stmt([Insn(BPF_STX | BPF_ATOMIC | size, base, a, off, imm)])


def _parse_assign(s: str, maps: MapIndex) -> _Stmt:
    m = _RE_ASSIGN.match(s)
    if not m:
        raise _Bad("unknown instruction")
    w, dst, op, rhs = m.group("w"), _reg(m.group("dst")), m.group("op"), m.group("rhs")
    if op == "=":
        return _parse_mov_rhs(w, dst, rhs, maps)
    code = _ALU_OPS.get(op)
    if code is None:
        raise _Bad(f"unknown operator {op}")
    alu = BPF_ALU if w == "w" else BPF_ALU64
    off = 1 if op[0] == "s" and op != "s>>=" else 0
    r = _RHS_REG.match(rhs)
    if r:
        if r.group("w") != w:
            raise _Bad("both registers of an ALU operation must be r or both w")
        return _Stmt([Insn(alu | code | BPF_X, dst, _reg(r.group("src")), off, 0)])
    if not _NUM_RE.fullmatch(rhs):
        raise _Bad(f"bad operand {rhs!r}")
    return _Stmt([Insn(alu | code | BPF_K, dst, 0, off, _s32(_int(rhs)))])


def _parse_statement(s: str, maps: MapIndex, kfuncs: Mapping[str, int] | None) -> _Stmt:
    """Parse one instruction (prefixes and comments already removed)."""
    head = s.split(" ", 1)[0]
    if head == "exit":
        if s != "exit":
            raise _Bad("exit takes no operands")
        return _Stmt([Insn(EXIT, 0, 0, 0, 0)])
    if head in ("goto", "gotol", "may_goto"):
        return _parse_goto(s)
    if head == "call":
        return _parse_call(s, kfuncs)
    if head == "if":
        return _parse_if(s)
    if head == "lock":
        return _parse_lock(s)
    if head.startswith("store_release("):
        return _parse_store_release(s)
    if head.startswith("*("):
        return _parse_store(s)
    if head == ".insn":
        return _parse_raw(s)
    if head.startswith("BUG_"):
        raise _Bad("the kernel's text for a malformed instruction cannot be assembled; use .insn")
    return _parse_assign(s, maps)


# --- lines --------------------------------------------------------------------
def _strip(line: str) -> tuple[str, int | None]:
    """The instruction text of a line and the ``(op)`` it was printed with, if any."""
    cut = line.find("//")
    if cut >= 0:
        line = line[:cut]
    cut = line.find(";")
    if cut >= 0:
        line = line[:cut]
    s = line.strip()
    if not s or s[0] == "#":
        return "", None
    m = _PREFIX.match(s)
    if m:
        s = s[m.end():]
    op = None
    m = _OPCODE.match(s)
    if m:
        op = int(m.group(1), 16)
        s = s[m.end():]
    return " ".join(s.split()), op


def _resolve(stmt: _Stmt, pos: int, labels: Mapping[str, int], kfuncs: Mapping[str, int] | None) -> list[Insn]:
    """Fill in the label or name a statement refers to; ``pos`` is its first slot."""
    first = stmt.insns[0]
    name = stmt.label
    assert name is not None
    if stmt.kind == "call":
        if name in labels:
            return [first._replace(src=BPF_PSEUDO_CALL, imm=_s32(labels[name] - pos - 1, "call offset"))]
        hid = helper_id(name)
        if hid is not None:
            return [first._replace(imm=hid)]
        if kfuncs is not None and name in kfuncs:
            return [first._replace(src=BPF_PSEUDO_KFUNC_CALL, imm=_s32(kfuncs[name], "kfunc id"))]
        raise _Bad(f"{name!r} is neither a label, a helper nor a known kfunc (write call {name}#BTF_ID)")
    if name not in labels:
        raise _Bad(f"undefined label {name!r}")
    delta = labels[name] - pos - 1
    if stmt.kind == "off":
        return [first._replace(off=_s16(delta))]
    if stmt.kind == "imm":
        return [first._replace(imm=_s32(delta, "jump offset"))]
    return [first._replace(imm=_s32(delta, "func offset")), *stmt.insns[1:]]


def assemble(
    text: str,
    maps: Sequence[str] | None = None,
    kfuncs: Mapping[str, int] | None = None,
) -> list[Insn]:
    """Assemble program text (see the module docstring) into instruction slots.

    ``maps`` names the program's maps in order, for ``map[NAME]`` references;
    ``kfuncs`` maps kfunc names to BTF ids for ``call NAME`` without ``#ID``.
    """
    map_index = _map_index(maps)
    stmts: list[_Stmt] = []
    labels: dict[str, int] = {}
    pos = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        s, op = _strip(line)
        if not s:
            continue
        m = _LABEL_DEF.match(s)
        if m and op is None:
            if m.group(1) in labels:
                raise AsmError(lineno, line, f"label {m.group(1)!r} defined twice")
            labels[m.group(1)] = pos
            continue
        try:
            stmt = _parse_statement(s, map_index, kfuncs)
        except _Bad as e:
            raise AsmError(lineno, line, str(e)) from None
        if op is not None and op != stmt.insns[0].code:
            raise AsmError(lineno, line, f"opcode ({op:02x}) does not match the instruction ({stmt.insns[0].code:02x})")
        stmt.lineno, stmt.line = lineno, line
        stmts.append(stmt)
        pos += len(stmt.insns)
    out: list[Insn] = []
    for stmt in stmts:
        if stmt.label is None:
            out.extend(stmt.insns)
            continue
        try:
            out.extend(_resolve(stmt, len(out), labels, kfuncs))
        except _Bad as e:
            raise AsmError(stmt.lineno, stmt.line, str(e)) from None
    return out


# --- disassembly -------------------------------------------------------------
def _raw(insn: Insn) -> str:
    return f".insn code=0x{insn.code:02x} dst={insn.dst} src={insn.src} off={insn.off} imm={insn.imm}"


def _reads_back(text: str, slots: Sequence[Insn], maps: MapIndex,
                kfuncs: Mapping[str, int] | None) -> bool:
    try:
        stmt = _parse_statement(text, maps, kfuncs)
        if stmt.label is not None:
            stmt.insns = _resolve(stmt, 0, {}, kfuncs)
    except _Bad:
        return False
    return stmt.insns == list(slots)


def _candidates(insns: Sequence[Insn], idx: int, maps: Sequence[str] | None,
                kfunc_names: Mapping[int, str] | None) -> list[str]:
    """Texts to try for the instruction at ``idx``, preferred first."""
    insn = insns[idx]
    text = format_insn(insns, idx, kfunc_names)
    if insn.code != LD_IMM64:
        return [text]
    if insn.src == BPF_PSEUDO_FUNC:
        return [f"r{insn.dst} = func[pc{insn.imm:+d}]"]
    if maps and insn.src in (BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE) and 0 <= insn.imm < len(maps):
        named = text.replace(f"[{insn.imm}]", f"[{maps[insn.imm]}]", 1)
        return [named, text]
    return [text]


def disassemble(
    insns: Sequence[Insn],
    maps: Sequence[str] | None = None,
    kfuncs: Mapping[int, str] | None = None,
) -> str:
    """Program text, one instruction a line, that ``assemble`` reads back to the same slots.

    The kernel's syntax is used wherever it reads back exactly; ``map[NAME]``
    when ``maps`` names the maps; ``func[pc+N]`` for callback references;
    ``.insn`` for slots the syntax cannot express. ``kfuncs`` (BTF id -> name)
    names kfunc calls.
    """
    by_name = {name: bid for bid, name in kfuncs.items()} if kfuncs else None
    map_index = _map_index(maps)
    lines: list[str] = []
    idx, n = 0, len(insns)
    while idx < n:
        insn = insns[idx]
        width = 2 if insn.code == LD_IMM64 and idx + 1 < n else 1
        slots = insns[idx:idx + width]
        for text in _candidates(insns, idx, maps, kfuncs):
            if _reads_back(text, slots, map_index, by_name):
                lines.append(text)
                break
        else:
            lines.extend(_raw(i) for i in slots)
        idx += width
    return "\n".join(lines) + ("\n" if lines else "")
