"""Map values: direct references, per-map access rights, constant reads of frozen read-only maps.

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
