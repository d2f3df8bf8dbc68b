"""Register state: the kernel's ``bpf_reg_state`` as a small immutable object.

A register is a type (base type plus flag bits, as in the kernel's
``enum bpf_reg_type``) and, for every type, a ``Scalar`` (``s``): the value of
a scalar, or the variable part of a pointer's offset. Pointers also carry a
fixed offset ``off``, an ``id`` (shared by copies, for null checks), the map
they point into, a packet ``range`` and a ``mem_size``.

``Reg`` objects are never changed after construction, so states share them
freely; writing a register means putting a new ``Reg`` in its slot.
"""
from __future__ import annotations

from typing import Any

from . import scalar as sc

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


def type_str(t: int) -> str:
    """The kernel's reg_type_str()."""
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

    __slots__ = ("type", "s", "off", "id", "ref_obj_id", "map", "range", "mem_size", "frameno", "precise")

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

    def replace(self, **kw: Any) -> "Reg":
        r = Reg(self.type, self.s, self.off, self.id, self.ref_obj_id, self.map, self.range, self.mem_size,
                self.frameno, self.precise)
        for k, v in kw.items():
            setattr(r, k, v)
        return r

    @property
    def is_scalar(self) -> bool:
        return self.type == SCALAR

    @property
    def is_const(self) -> bool:
        return not self.s.var_off.mask

    def __repr__(self) -> str:  # for debugging and test failures
        return f"Reg({type_str(self.type)}, off={self.off}, id={self.id}, s={self.s!r})"


def scalar_const(v: int) -> Reg:
    return Reg(SCALAR, sc.Scalar.const(v))


def scalar_unknown() -> Reg:
    return Reg(SCALAR, sc.Scalar.unknown())


def scalar_of(s: Any) -> Reg:
    return Reg(SCALAR, s)


NOT_INIT_REG = Reg(NOT_INIT, None)


def pointer(t: int, off: int = 0, **kw: Any) -> Reg:
    return Reg(t, _ZERO_S, off, **kw)


_ZERO_S = sc.Scalar.const(0)
