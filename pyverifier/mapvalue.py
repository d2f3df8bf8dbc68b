"""Map values: direct references, per-map access rights, constant reads of frozen read-only maps,
and the special fields a map's BTF describes (``pyverifier.btf_fields``).

- ``ld_imm64`` with a ``map_value`` source (global data: ``.data``, ``.bss``,
  ``.rodata``) is checked before exploration like the kernel's
  resolve_pseudo_ldimm64: the offset must be below 1 << 29, the map type must
  give direct value addresses (a plain array), the array must have exactly one
  element and the offset must lie inside its value. During exploration the
  register becomes ``map_value`` with that fixed offset and id 0.
- A map created with ``BPF_F_RDONLY_PROG`` cannot be written by the program,
  one created with ``BPF_F_WRONLY_PROG`` cannot be read (check_map_access_type).
- A load from a map the program can only read and that is frozen (``.rodata``)
  at a constant offset gives a known scalar: the bytes of the map's initial
  value, little endian, sign-extended for ``ldsx`` (bpf_map_direct_read).
- Special fields (``struct bpf_spin_lock``, ``struct bpf_timer``, ...) may not be
  touched by any load, store or helper access (check_fields); the lock and
  timer helpers need a pointer exactly at the field (check_field_pointer,
  process_timer); socket filter and tracing programs may not use maps with a
  lock, tracing programs none with a timer (check_prog_compat).
"""
from __future__ import annotations

from . import regs as R
from . import uapi

EINVAL = 22
EACCES = 13
ENOTSUPP = 524
MAX_VAR_OFF = 1 << 29
BPF_F_RDONLY_PROG = 1 << 7
BPF_F_WRONLY_PROG = 1 << 8

_ARRAY = uapi.MAP_TYPES["array"]
_ARENA = uapi.MAP_TYPES.get("arena")


def check_direct_ref(m, off: int):
    """resolve_pseudo_ldimm64 for a ``map_value`` reference at offset ``off`` (the second slot's imm).

    Returns None when the reference is fine, else ``(message, errno)``; raises
    ``NotModelled`` for map kinds whose direct addresses pyverifier does not know.
    """
    off &= 0xFFFFFFFF
    if off >= MAX_VAR_OFF:
        return f"direct value offset of {off} is not allowed", EINVAL
    if _ARENA is not None and m.type == _ARENA:
        from .cfg import NotModelled

        raise NotModelled("direct references into arena maps")
    if m.type != _ARRAY:
        return "no direct value access support for this map type", EINVAL
    if m.max_entries != 1:
        return f"invalid access to map value pointer, value_size={m.value_size} off={off}", ENOTSUPP
    if off >= m.value_size:
        return f"invalid access to map value pointer, value_size={m.value_size} off={off}", EINVAL
    return None


def direct_ref_reg(m, off: int):
    """The register check_ld_imm gives a ``map_value`` reference."""
    return R.pointer(R.PTR_TO_MAP_VALUE, off=off & 0xFFFFFFFF, map=m)


def check_access_type(v, m, off: int, size: int, write: bool) -> None:
    """check_map_access_type: the map's BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG."""
    if write and m.flags & BPF_F_RDONLY_PROG:
        v.err(f"write into map forbidden, value_size={m.value_size} off={off} size={size}")
    if not write and m.flags & BPF_F_WRONLY_PROG:
        v.err(f"read from map forbidden, value_size={m.value_size} off={off} size={size}")


def reads_as_constant(m) -> bool:
    """bpf_map_is_rdonly (read-only for programs and frozen) and the map gives direct value addresses."""
    return bool(m.flags & BPF_F_RDONLY_PROG) and bool(getattr(m, "frozen", False)) and m.type == _ARRAY


def direct_read(v, m, off: int, size: int, is_sx: bool) -> int:
    """bpf_map_direct_read: the constant ``size`` bytes at ``off`` of element 0 (as an unsigned 64-bit value)."""
    if m.max_entries != 1:
        # map_direct_value_addr fails; the kernel returns its errno without a message (the loader's
        # wording for a rejection whose log gives no reason)
        from .verifier import Reject

        raise Reject(ENOTSUPP, "rejected with ENOTSUPP before the verifier ran (no log)")
    init = getattr(m, "init", None) or b""
    data = init[:m.value_size].ljust(m.value_size, b"\0")
    val = int.from_bytes(data[off:off + size], "little")
    if is_sx and size < 8 and val >> (size * 8 - 1):
        val -= 1 << (size * 8)
    return val & ((1 << 64) - 1)


_U64 = (1 << 64) - 1


def check_fields(v, reg, off: int, size: int, direct: bool = True) -> None:
    """check_map_access's special fields: a load, store or helper access may not touch any of them but a
    kptr, which a load or store (``direct``) may access whole (``pyverifier.kptr``).

    ``off`` includes ``reg.off``; the access spans ``[smin + off, umax + off + size)``.
    """
    s = reg.s
    lo = s.smin + off
    hi = (s.umax + off + size) & _U64
    for f in reg.map.record.fields:
        p = f.offset
        if lo < p + f.size and p < hi:
            if f.target:
                from .kptr import check_field_access

                check_field_access(v, f, reg, off, size, direct)
            else:
                v.err(f"{f.kind} cannot be accessed directly by load/store")


_TRACING = None


def check_prog_compat(m, prog_type: int):
    """check_map_prog_compatibility's rules on special fields: None, or (message, errno)."""
    global _TRACING
    rec = m.record
    if rec is None:
        return None
    if _TRACING is None:
        _TRACING = frozenset(uapi.PROG_TYPES[n] for n in ("kprobe", "tracepoint", "perf_event", "raw_tracepoint",
                                                         "raw_tracepoint_writable"))
    if m.has_lock:
        if prog_type == uapi.PROG_TYPES["socket_filter"]:
            return "socket filter progs cannot use bpf_spin_lock yet", EINVAL
        if prog_type in _TRACING:
            return "tracing progs cannot use bpf_spin_lock yet", EINVAL
    if rec.timer_off >= 0 and prog_type in _TRACING:
        return "tracing progs cannot use bpf_timer yet", EINVAL
    if rec.wq_off >= 0 and prog_type in _TRACING:
        return "tracing progs cannot use bpf_wq yet", EINVAL
    return None


def check_field_pointer(v, regno: int, kind: str, field_off: int) -> None:
    """check_map_field_pointer: R``regno`` must point exactly at the map value's ``kind`` field
    (``field_off``: where the map's record has it, -1 when it has none)."""
    reg = v.state.cur.regs[regno]
    vo = reg.s.var_off
    if vo.mask:
        v.err(f"R{regno} doesn't have constant offset. {kind} has to be at the constant offset", EINVAL)
    m = reg.map
    if not m.btf:
        v.err(f"map '{m.name}' has to have BTF in order to use {kind}", EINVAL)
    if field_off < 0:
        v.err(f"map '{m.name}' has no valid {kind}", EINVAL)
    off = (vo.value + reg.off) & _U64
    if off != field_off:
        soff = off - (1 << 64) if off >> 63 else off
        v.err(f"off {soff} doesn't point to 'struct {kind}' that is at {field_off}", EINVAL)


def process_timer(v, regno: int, meta) -> None:
    """The ARG_PTR_TO_TIMER argument of the bpf_timer_* helpers; the timer's map becomes the call's map."""
    m = v.state.cur.regs[regno].map
    rec = m.record
    check_field_pointer(v, regno, "bpf_timer", rec.timer_off if rec is not None else -1)
    if m.index < 0:
        from .verifier import NotModelled

        raise NotModelled("bpf_timer in an inner map (map_uid)")
    meta.map = m


def check_timer_map_arg(v, meta, reg) -> None:
    """bpf_timer_init's map argument must be the timer's own map."""
    if meta.map is not reg.map:
        if reg.map is None or reg.map.index < 0:
            from .verifier import NotModelled

            raise NotModelled("bpf_timer_init with an inner map (map_uid)")
        v.err("timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0", EINVAL)
