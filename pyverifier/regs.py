"""Register state: the kernel's ``bpf_reg_state`` as a small immutable object.

A register is a type (base type plus flag bits, as in the kernel's
``enum bpf_reg_type``) and, for every type, a ``Scalar`` (``s``): the value of
a scalar, or the variable part of a pointer's offset. Pointers also carry a
fixed offset ``off``, an ``id`` (shared by copies, for null checks), the map
they point into, a packet ``range`` and a ``mem_size`` (for a pointer to a kernel
object, ``mem_size`` holds the object's BTF type id: the kernel keeps both in one union).

``Reg`` objects are never changed after construction, so states share them
freely; writing a register means putting a new ``Reg`` in its slot. Never assign
to a field of an existing ``Reg`` (use ``replace``): ``scalar_const`` and
``scalar_unknown`` hand out shared objects (across states and programs), and
``fmt_reg`` caches each object's log text in ``txt``.
"""
from __future__ import annotations

from typing import Any

from . import scalar as sc
from .caches import keep
from .log import fmt_ranges, fmt_snum, fmt_tnum, fmt_unum

# ---- base types (the kernel's order does not matter here; the names do) ----
NOT_INIT = 0
SCALAR = 1
PTR_TO_CTX = 2
CONST_PTR_TO_MAP = 3
PTR_TO_MAP_VALUE = 4
PTR_TO_MAP_KEY = 5
PTR_TO_STACK = 6
PTR_TO_PACKET_META = 7
PTR_TO_PACKET = 8
PTR_TO_PACKET_END = 9
PTR_TO_FLOW_KEYS = 10
PTR_TO_SOCKET = 11
PTR_TO_SOCK_COMMON = 12
PTR_TO_TCP_SOCK = 13
PTR_TO_TP_BUFFER = 14
PTR_TO_XDP_SOCK = 15
PTR_TO_BTF_ID = 16
PTR_TO_MEM = 17
PTR_TO_ARENA = 18
PTR_TO_BUF = 19
PTR_TO_FUNC = 20
CONST_PTR_TO_DYNPTR = 21

BASE_MASK = 0xFF
# ---- flags ----
PTR_MAYBE_NULL = 1 << 8
MEM_RDONLY = 1 << 9
MEM_RINGBUF = 1 << 10
MEM_USER = 1 << 11
MEM_PERCPU = 1 << 12
MEM_RCU = 1 << 13
PTR_UNTRUSTED = 1 << 14
PTR_TRUSTED = 1 << 15
MEM_ALLOC = 1 << 16

BASE_NAMES = {
    NOT_INIT: "?",
    SCALAR: "scalar",
    PTR_TO_CTX: "ctx",
    CONST_PTR_TO_MAP: "map_ptr",
    PTR_TO_MAP_VALUE: "map_value",
    PTR_TO_STACK: "fp",
    PTR_TO_PACKET: "pkt",
    PTR_TO_PACKET_META: "pkt_meta",
    PTR_TO_PACKET_END: "pkt_end",
    PTR_TO_FLOW_KEYS: "flow_keys",
    PTR_TO_SOCKET: "sock",
    PTR_TO_SOCK_COMMON: "sock_common",
    PTR_TO_TCP_SOCK: "tcp_sock",
    PTR_TO_TP_BUFFER: "tp_buffer",
    PTR_TO_XDP_SOCK: "xdp_sock",
    PTR_TO_BTF_ID: "ptr_",
    PTR_TO_MEM: "mem",
    PTR_TO_ARENA: "arena",
    PTR_TO_BUF: "buf",
    PTR_TO_FUNC: "func",
    PTR_TO_MAP_KEY: "map_key",
    CONST_PTR_TO_DYNPTR: "dynptr_ptr",
}


def base_type(t: int) -> int:
    return t & BASE_MASK


_TYPE_STR: dict[int, str] = {}


def type_str(t: int) -> str:
    """The kernel's reg_type_str()."""
    s = _TYPE_STR.get(t)
    if s is None:
        s = _TYPE_STR[t] = _type_str(t)
    return s


def _type_str(t: int) -> str:
    base = t & BASE_MASK
    post = ""
    if t & PTR_MAYBE_NULL:
        post = "or_null_" if base == PTR_TO_BTF_ID else "_or_null"
    pre = "".join(
        name
        for flag, name in (
            (MEM_RDONLY, "rdonly_"),
            (MEM_RINGBUF, "ringbuf_"),
            (MEM_USER, "user_"),
            (MEM_PERCPU, "percpu_"),
            (MEM_RCU, "rcu_"),
            (PTR_UNTRUSTED, "untrusted_"),
            (PTR_TRUSTED, "trusted_"),
        )
        if t & flag
    )
    return pre + BASE_NAMES.get(base, "?") + post


def is_pkt_pointer(t: int) -> bool:
    return (t & BASE_MASK) in (PTR_TO_PACKET, PTR_TO_PACKET_META)


def is_map_ptr_type(t: int) -> bool:
    return (t & BASE_MASK) in (CONST_PTR_TO_MAP, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE)


class Reg:
    """One register (or spilled register) value. Immutable by convention."""

    __slots__ = ("type", "s", "off", "id", "ref_obj_id", "map", "range", "mem_size", "frameno", "precise", "txt")

    def __init__(self, type: int, s: Any, off: int = 0, id: int = 0, ref_obj_id: int = 0, map: Any = None,
                 range: int = 0, mem_size: int = 0, frameno: int = 0, precise: bool = False):
        self.type = type
        self.s = s
        self.off = off
        self.id = id
        self.ref_obj_id = ref_obj_id
        self.map = map
        self.range = range
        self.mem_size = mem_size
        self.frameno = frameno
        self.precise = precise
        self.txt = None  # the log text (fmt_reg), cached: a Reg never changes

    def replace(self, **kw: Any) -> "Reg":
        r = _new_reg(Reg)
        r.type = self.type
        r.s = self.s
        r.off = self.off
        r.id = self.id
        r.ref_obj_id = self.ref_obj_id
        r.map = self.map
        r.range = self.range
        r.mem_size = self.mem_size
        r.frameno = self.frameno
        r.precise = self.precise
        r.txt = None
        if kw:
            for k, v in kw.items():
                setattr(r, k, v)
        return r

    def with_s(self, s: Any) -> "Reg":
        """``replace(s=s)`` without keyword handling (the scalar of a register changes on every ALU step)."""
        r = _new_reg(Reg)
        r.type = self.type
        r.s = s
        r.off = self.off
        r.id = self.id
        r.ref_obj_id = self.ref_obj_id
        r.map = self.map
        r.range = self.range
        r.mem_size = self.mem_size
        r.frameno = self.frameno
        r.precise = self.precise
        r.txt = None
        return r

    def with_off(self, off: int) -> "Reg":
        """``replace(off=off)`` without keyword handling (a constant added to a pointer)."""
        r = self.with_s(self.s)
        r.off = off
        return r

    @property
    def is_scalar(self) -> bool:
        return self.type == SCALAR

    @property
    def is_const(self) -> bool:
        return not self.s.var_off.mask

    def __repr__(self) -> str:  # for debugging and test failures
        return f"Reg({type_str(self.type)}, off={self.off}, id={self.id}, s={self.s!r})"


_CONST_REGS: dict[int, Reg] = {}


_new_reg = object.__new__


def scalar_const(v: int) -> Reg:
    """A known scalar; Regs never change, so constants are shared (and keep their log text)."""
    r = _CONST_REGS.get(v)
    if r is None:
        r = keep(_CONST_REGS, v, Reg(SCALAR, sc.Scalar.const(v)), 8192)
    return r


def scalar_unknown() -> Reg:
    return _UNKNOWN_REG


def scalar_of(s: Any) -> Reg:
    return Reg(SCALAR, s)


NOT_INIT_REG = Reg(NOT_INIT, None)
_UNKNOWN_REG = Reg(SCALAR, sc.Scalar.unknown())


def pointer(t: int, off: int = 0, **kw: Any) -> Reg:
    return Reg(t, _ZERO_S, off, **kw)


ZERO_S = _ZERO_S = sc.Scalar.const(0)  # the variable part of most pointers


def btf_type_name(tid: int) -> str:
    """The name of kernel BTF type ``tid`` (what the log prints after ``ptr_``)."""
    from . import kbtf

    btf = kbtf.get()
    if btf is None or not 0 <= tid < len(btf.types):
        return ""
    return btf.types[tid].name


def fmt_reg(r: Reg, frameno: int = 0) -> str:
    """What the log prints after ``R<n>=`` (or ``fp-8=``) for ``r`` in a frame ``frameno``."""
    txt = r.txt
    if txt is not None and (r.type != PTR_TO_STACK or r.frameno == frameno):
        return txt
    txt = _fmt_reg(r, frameno)
    if r.type != PTR_TO_STACK or r.frameno == frameno:
        r.txt = txt
    return txt


# the text of a scalar register by what it depends on; programs repeat values
_SCALAR_TXT: dict[tuple, str] = {}
_SCALAR_TXT_MAX = 1 << 16


def _fmt_reg(r: Reg, frameno: int) -> str:
    t = r.type
    if t == SCALAR:
        s = r.s
        if not s.var_off.mask:  # a constant prints as its value
            return sc.format(s, 0, None, r.precise)
        key = (s, r.id, r.off, r.precise)
        txt = _SCALAR_TXT.get(key)
        if txt is None:
            if r.id & (3 << 30):  # BPF_ADD_CONST64/32 link (pyverifier.links)
                txt = sc.format(s, r.id & ~(3 << 30), r.off, r.precise)
            else:
                txt = sc.format(s, r.id, None, r.precise)
            keep(_SCALAR_TXT, key, txt, _SCALAR_TXT_MAX)
        return txt
    # a pointer's text by what it depends on (the same pointer is made again on every path);
    # not a PTR_TO_BTF_ID's, whose name comes from the kernel BTF in use (kbtf.set_provider)
    if t & BASE_MASK == PTR_TO_BTF_ID:
        return _fmt_ptr(r, frameno)
    m = r.map
    vo = r.s.var_off
    # a known offset prints as its value alone: the value is the key (hashed faster than the Scalar)
    key = (t, r.s if vo.mask else vo.value, r.off, r.id, r.ref_obj_id, r.range, r.mem_size,
           r.frameno if t == PTR_TO_STACK and r.frameno != frameno else -1,
           None if m is None else (m.name, m.key_size, m.value_size))
    txt = _PTR_TXT.get(key)
    if txt is None:
        txt = keep(_PTR_TXT, key, _fmt_ptr(r, frameno), _SCALAR_TXT_MAX)
    return txt


_PTR_TXT: dict[tuple, str] = {}


def _fmt_ptr(r: Reg, frameno: int) -> str:
    t = r.type
    vo = r.s.var_off
    name = type_str(t)
    if t & BASE_MASK == PTR_TO_BTF_ID:
        name += btf_type_name(r.mem_size)
    if t == PTR_TO_STACK:
        if r.frameno != frameno:
            name += f"[{r.frameno}]"
        if not vo.mask:
            return name + fmt_snum(vo.value + r.off)
    parts = []
    if r.id:
        parts.append(f"id={r.id}")
    if r.ref_obj_id:
        parts.append(f"ref_obj_id={r.ref_obj_id}")
    if is_map_ptr_type(t) and r.map is not None:
        if r.map.name:
            parts.append(f"map={r.map.name}")
        parts.append(f"ks={r.map.key_size},vs={r.map.value_size}")
    if r.off:
        parts.append("off=" + fmt_snum(r.off))
    if is_pkt_pointer(t):
        parts.append("r=" + fmt_unum(r.range))
    if base_type(t) == PTR_TO_MEM:
        parts.append("sz=" + fmt_unum(r.mem_size))
    if not vo.mask:
        if vo.value:
            parts.append("imm=" + fmt_snum(vo.value))
    else:
        s = r.s
        parts.extend(fmt_ranges(s.smin, s.smax, s.umin, s.umax, s.s32_min, s.s32_max, s.u32_min, s.u32_max))
        if vo.mask != (1 << 64) - 1:
            parts.append("var_off=" + fmt_tnum(vo.value, vo.mask))
    return f"{name}({','.join(parts)})"
