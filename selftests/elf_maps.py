"""The maps of a BPF object: BTF-defined (``.maps``), legacy (``maps``), and global data.

* ``.maps``: each variable of the ``.maps`` DATASEC is a struct whose members
  encode the definition as libbpf's ``__uint``/``__type``/``__array`` macros do:
  ``__uint(name, N)`` is a pointer to an array of N elements, ``__type(key, T)``
  a pointer to T (the key size is T's size), ``__array(values, struct inner)``
  the inner map of a map-in-map.
* ``maps``: ``struct bpf_map_def`` records (type, key_size, value_size,
  max_entries, map_flags as 32-bit words), one per symbol in the section.
* ``.data``/``.data.*``, ``.rodata``/``.rodata.*``, ``.bss``/``.bss.*``: a
  one-element array whose value is the section; ``.rodata`` is frozen and
  read-only for programs (``BPF_F_RDONLY_PROG``); sections holding a global
  (not static) variable are ``BPF_F_MMAPABLE``, as libbpf makes them.

Adjustments libbpf makes are made here too: a ring buffer's size is rounded up
to a power-of-two number of pages, a perf event array without ``max_entries``
gets one entry per possible CPU.

A map whose kernel object needs its key/value BTF (local storage maps) or
whose value holds a special field the verifier only knows from BTF
(``bpf_spin_lock``, ``bpf_timer``, kptrs, ...) gets the BTF of its key and value
in ``MapSpec.btf`` (only those types and what they reference, re-encoded:
``btf.encode_subset``), as libbpf passes the object's BTF when creating it.
Other maps carry no BTF: the verifier reads nothing else from it. A map that
would need BTF the object does not have (a legacy definition of a local
storage map, struct_ops) gets ``needs_btf``: programs using it are not imported.
"""
from __future__ import annotations

import dataclasses
import os
import struct
from dataclasses import dataclass, field

from pyverifier import uapi
from pyverifier.program import MapSpec

from . import btf as B
from .btf import Btf, BtfError, encode_subset

BPF_F_RDONLY_PROG = 1 << 7
BPF_F_MMAPABLE = 1 << 10
BPF_OBJ_NAME_LEN = 16
LEGACY_DEF_SIZE = 20  # struct bpf_map_def: five u32

# value types the verifier only understands through BTF
SPECIAL_STRUCTS = frozenset((
    "bpf_spin_lock", "bpf_res_spin_lock", "bpf_timer", "bpf_wq", "bpf_task_work", "bpf_list_head",
    "bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_refcount",
))
SPECIAL_TAGS = frozenset(("kptr", "kptr_untrusted", "kptr_ref", "percpu_kptr", "uptr"))
# map types the kernel creates only with key/value BTF
BTF_ONLY_MAP_TYPES = frozenset(
    uapi.MAP_TYPES[n] for n in ("sk_storage", "inode_storage", "task_storage", "cgrp_storage", "struct_ops")
)
MAP_IN_MAP = frozenset((uapi.MAP_TYPES["array_of_maps"], uapi.MAP_TYPES["hash_of_maps"]))


@dataclass
class ObjMap:
    """One map of the object, in libbpf's order (``index`` in the object's map list)."""

    name: str
    kind: str  # "btf", "legacy", "data", "rodata", "bss", "kconfig"
    sec_idx: int
    sec_offset: int
    spec: MapSpec | None  # None: the definition could not be read (see ``error``)
    error: str | None = None
    needs_btf: str | None = None
    notes: list[str] = field(default_factory=list)


def _page_size() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 4096


def possible_cpus() -> int:
    """The number of possible CPUs (``/sys/devices/system/cpu/possible``), as libbpf counts them."""
    try:
        text = open("/sys/devices/system/cpu/possible").read().strip()
    except OSError:
        return os.cpu_count() or 1
    n = 0
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            n += int(b) - int(a) + 1
        elif part:
            n += 1
    return n or 1


def adjust_ringbuf_size(sz: int) -> int:
    """libbpf's adjustment of a ring buffer's max_entries to a power-of-two multiple of the page size."""
    page = _page_size()
    if sz == 0:
        return 0
    if sz % page == 0 and ((sz // page) & (sz // page - 1)) == 0:
        return sz
    mul = 1
    while mul * page <= 0xFFFFFFFF:
        if mul * page > sz:
            return mul * page
        mul <<= 1
    return sz


def internal_map_name(obj_name: str, real_name: str) -> str:
    """The name libbpf gives the map of global data section ``real_name`` of object ``obj_name``."""
    sfx_len = min(max(7, len(real_name)), BPF_OBJ_NAME_LEN - 1)
    if "." in real_name[1:]:
        pfx_len = 0  # a custom section (.data.foo): its own name only
    else:
        pfx_len = min(BPF_OBJ_NAME_LEN - sfx_len - 1, len(obj_name))
    name = obj_name[:pfx_len] + real_name[:sfx_len]
    return "".join(c if (c.isalnum() or c in "_.") else "_" for c in name)


def special_field(btf: Btf, tid: int, depth: int = 0) -> str | None:
    """The name of a BTF-only special field inside type ``tid``, if any."""
    if depth > 32:
        return None
    try:
        t = btf.type(tid)
        while True:
            if t.kind == B.TYPE_TAG and t.name in SPECIAL_TAGS:
                return f"__{t.name} pointer"
            if t.kind in (B.TYPEDEF, B.VOLATILE, B.CONST, B.RESTRICT, B.TYPE_TAG, B.VAR):
                t = btf.type(t.size_type)
                continue
            break
        if t.kind in (B.STRUCT, B.UNION):
            if t.name in SPECIAL_STRUCTS:
                return f"struct {t.name}"
            for _n, mt, _o in t.members:
                found = special_field(btf, mt, depth + 1)
                if found:
                    return found
        elif t.kind == B.ARRAY:
            return special_field(btf, t.extra[0], depth + 1)
        elif t.kind == B.PTR:
            p = btf.type(t.size_type)
            if p.kind == B.TYPE_TAG and p.name in SPECIAL_TAGS:
                return f"__{p.name} pointer"
        elif t.kind == B.DATASEC:
            for vt, _o, _s in t.members:
                found = special_field(btf, vt, depth + 1)
                if found:
                    return found
    except BtfError:
        return None
    return None


# --- BTF-defined maps --------------------------------------------------------

class _MapDefError(Exception):
    pass


def _field_int(btf: Btf, map_name: str, mname: str, mtype: int) -> int:
    _, t = btf.skip_mods_and_typedefs(mtype)
    if t.kind != B.PTR:
        raise _MapDefError(f"map '{map_name}': attr '{mname}': expected PTR, got {t.kind_name}")
    arr = btf.type(t.size_type)
    if arr.kind != B.ARRAY:
        raise _MapDefError(f"map '{map_name}': attr '{mname}': expected ARRAY, got {arr.kind_name}")
    return arr.extra[2]


def _field_long(btf: Btf, map_name: str, mname: str, mtype: int) -> int:
    _, t = btf.skip_mods_and_typedefs(mtype)
    if t.kind == B.PTR:
        return _field_int(btf, map_name, mname, mtype)
    if t.kind not in (B.ENUM, B.ENUM64) or t.vlen != 1:
        raise _MapDefError(f"map '{map_name}': attr '{mname}': expected an __ulong enum, got {t.kind_name}")
    return t.members[0][1] & 0xFFFFFFFFFFFFFFFF


@dataclass
class _Def:
    type: int = 0
    key_size: int = 0
    value_size: int = 0
    max_entries: int = 0
    flags: int = 0
    map_extra: int = 0
    key_type: int = 0
    value_type: int = 0
    inner: "_Def | None" = None
    pinning: int = 0


def parse_btf_map_def(btf: Btf, map_name: str, def_id: int, is_inner: bool = False) -> _Def:
    """libbpf's parse_btf_map_def over struct type ``def_id``. Raises _MapDefError."""
    d = _Def()
    t = btf.type(def_id)
    n = len(t.members)
    for i, (mname, mtype, _off) in enumerate(t.members):
        if not mname:
            raise _MapDefError(f"map '{map_name}': invalid field #{i}")
        if mname == "type":
            d.type = _field_int(btf, map_name, mname, mtype)
        elif mname == "max_entries":
            d.max_entries = _field_int(btf, map_name, mname, mtype)
        elif mname == "map_flags":
            d.flags = _field_int(btf, map_name, mname, mtype)
        elif mname == "numa_node":
            _field_int(btf, map_name, mname, mtype)
        elif mname in ("key_size", "value_size"):
            sz = _field_int(btf, map_name, mname, mtype)
            cur = getattr(d, mname)
            if cur and cur != sz:
                raise _MapDefError(f"map '{map_name}': conflicting {mname.replace('_', ' ')} {cur} != {sz}")
            setattr(d, mname, sz)
        elif mname in ("key", "value"):
            p = btf.type(mtype)
            if p.kind != B.PTR:
                raise _MapDefError(f"map '{map_name}': {mname} spec is not PTR: {p.kind_name}")
            try:
                sz = btf.resolve_size(p.size_type)
            except BtfError as e:
                raise _MapDefError(f"map '{map_name}': can't determine {mname} size: {e}") from None
            attr = mname + "_size"
            cur = getattr(d, attr)
            if cur and cur != sz:
                raise _MapDefError(f"map '{map_name}': conflicting {mname} size {cur} != {sz}")
            setattr(d, attr, sz)
            setattr(d, mname + "_type", p.size_type)
        elif mname == "values":
            is_mim = d.type in MAP_IN_MAP
            is_prog_array = d.type == uapi.MAP_TYPES["prog_array"]
            if is_inner:
                raise _MapDefError(f"map '{map_name}': multi-level inner maps not supported")
            if i != n - 1:
                raise _MapDefError(f"map '{map_name}': '{mname}' member should be last")
            if not is_mim and not is_prog_array:
                raise _MapDefError(f"map '{map_name}': should be map-in-map or prog-array")
            if d.value_size and d.value_size != 4:
                raise _MapDefError(f"map '{map_name}': conflicting value size {d.value_size} != 4")
            d.value_size = 4
            a = btf.type(mtype)
            if a.kind != B.ARRAY or a.extra[2]:
                raise _MapDefError(f"map '{map_name}': values spec is not a zero-sized array")
            _, p = btf.skip_mods_and_typedefs(a.extra[0])
            if p.kind != B.PTR:
                raise _MapDefError(f"map '{map_name}': values def is of unexpected kind {p.kind_name}")
            inner_id, it = btf.skip_mods_and_typedefs(p.size_type)
            if is_prog_array:
                if it.kind != B.FUNC_PROTO:
                    raise _MapDefError(f"map '{map_name}': prog-array value def is of unexpected kind {it.kind_name}")
                continue
            if it.kind != B.STRUCT:
                raise _MapDefError(f"map '{map_name}': map-in-map inner def is of unexpected kind {it.kind_name}")
            d.inner = parse_btf_map_def(btf, map_name + ".inner", inner_id, is_inner=True)
        elif mname == "pinning":
            if is_inner:
                raise _MapDefError(f"map '{map_name}': inner def can't be pinned")
            d.pinning = _field_int(btf, map_name, mname, mtype)
            if d.pinning not in (0, 1):
                raise _MapDefError(f"map '{map_name}': invalid pinning value {d.pinning}")
        elif mname == "map_extra":
            d.map_extra = _field_long(btf, map_name, mname, mtype)
        else:
            raise _MapDefError(f"map '{map_name}': unknown field '{mname}'")
    if d.type == 0:
        raise _MapDefError(f"map '{map_name}': map type isn't specified")
    return d


def _spec_from_def(name: str, d: _Def, notes: list[str]) -> MapSpec:
    max_entries = d.max_entries
    if d.type in (uapi.MAP_TYPES["ringbuf"], uapi.MAP_TYPES["user_ringbuf"]):
        adj = adjust_ringbuf_size(max_entries)
        if adj != max_entries:
            notes.append(f"map '{name}': ring buffer size {max_entries} rounded up to {adj}, as libbpf does")
        max_entries = adj
    if d.type == uapi.MAP_TYPES["perf_event_array"] and not max_entries:
        max_entries = possible_cpus()
        notes.append(f"map '{name}': perf event array sized to the {max_entries} possible CPUs, as libbpf does")
    if d.map_extra:
        notes.append(f"map '{name}': map_extra {d.map_extra:#x} is not carried (MapSpec has no map_extra)")
    inner = None
    if d.inner is not None:
        inner = _spec_from_def(name + ".inner", d.inner, notes)
    return MapSpec(name=name, type=d.type, key_size=d.key_size, value_size=d.value_size,
                   max_entries=max_entries, flags=d.flags, inner=inner)


def _needs_btf(btf: Btf, d: _Def) -> str | None:
    """Why map definition ``d`` must be created with its BTF, or None."""
    if d.type in BTF_ONLY_MAP_TYPES:
        return f"{uapi.map_type_name(d.type)} maps are created only with BTF key/value types"
    if d.value_type:
        special = special_field(btf, d.value_type)
        if special:
            return f"its value holds a {special}"
    return None


def _with_btf(btf: Btf, name: str, d: _Def, spec: MapSpec, om: ObjMap) -> MapSpec:
    """``spec`` with the BTF of its key and value where the kernel needs it (inner map too)."""
    if d.inner is not None and spec.inner is not None:
        spec = dataclasses.replace(spec, inner=_with_btf(btf, name + ".inner", d.inner, spec.inner, om))
    why = _needs_btf(btf, d)
    if why is None:
        return spec
    if d.type == uapi.MAP_TYPES["struct_ops"]:
        om.needs_btf = f"map '{name}' is a struct_ops map, whose kernel type is named through BTF"
        return spec
    if d.type in BTF_ONLY_MAP_TYPES and not (d.key_type and d.value_type):
        om.needs_btf = f"map '{name}': {why}, but it is defined by sizes, not __type(key/value)"
        return spec
    blob, ids = encode_subset(btf, [d.key_type, d.value_type])
    return dataclasses.replace(spec, btf=blob, btf_key_type_id=ids[d.key_type], btf_value_type_id=ids[d.value_type])


def btf_maps(btf: Btf | None, sec_idx: int, sec_size: int) -> tuple[list[ObjMap], str | None]:
    """The maps of the ``.maps`` section, or ([], reason) when they cannot be read at all."""
    if btf is None:
        return [], "the object has a .maps section but no readable .BTF: BTF-defined maps cannot be read"
    secs = btf.datasecs()
    if ".maps" not in secs:
        return [], "DATASEC '.maps' not found in .BTF"
    sec = btf.type(secs[".maps"])
    out: list[ObjMap] = []
    for var_id, offset, size in sec.members:
        var = btf.type(var_id)
        name = var.name
        om = ObjMap(name=name or f"#{len(out)}", kind="btf", sec_idx=sec_idx, sec_offset=offset, spec=None)
        out.append(om)
        try:
            if not name:
                raise _MapDefError(f"map #{len(out) - 1}: empty name")
            if offset + size > sec_size:
                raise _MapDefError(f"map '{name}' BTF data is corrupted")
            if var.kind != B.VAR:
                raise _MapDefError(f"map '{name}': unexpected var kind {var.kind_name}")
            if var.extra != B.VAR_GLOBAL_ALLOCATED:
                raise _MapDefError(f"map '{name}': unsupported map linkage (not a global variable)")
            def_id, dt = btf.skip_mods_and_typedefs(var.size_type)
            if dt.kind != B.STRUCT:
                raise _MapDefError(f"map '{name}': unexpected def kind {dt.kind_name}")
            if dt.size_type > size:
                raise _MapDefError(f"map '{name}': invalid def size")
            d = parse_btf_map_def(btf, name, def_id)
            om.spec = _with_btf(btf, name, d, _spec_from_def(name, d, om.notes), om)
        except (_MapDefError, BtfError) as e:
            om.error = str(e)
    return out, None


# --- legacy maps -------------------------------------------------------------

def legacy_maps(sec_idx: int, data: bytes, symbols: list[tuple[str, int]]) -> tuple[list[ObjMap], str | None]:
    """The ``struct bpf_map_def`` maps of the legacy ``maps`` section.

    ``symbols`` are (name, offset) of the non-section symbols defined in it.
    """
    if not symbols:
        return [], "the 'maps' section has no map symbols"
    n = len(symbols)
    if not data or len(data) % n:
        return [], f"unable to determine map definition size: section 'maps' has {n} maps in {len(data)} bytes"
    def_sz = len(data) // n
    out: list[ObjMap] = []
    for name, off in sorted(symbols, key=lambda s: s[1]):
        om = ObjMap(name=name, kind="legacy", sec_idx=sec_idx, sec_offset=off, spec=None)
        out.append(om)
        if off + def_sz > len(data):
            om.error = f"map '{name}': corrupted maps section (definition past its end)"
            continue
        raw = data[off : off + def_sz]
        words = raw[:LEGACY_DEF_SIZE].ljust(LEGACY_DEF_SIZE, b"\0")
        mtype, ksz, vsz, maxe, flags = struct.unpack("<5I", words)
        if any(raw[LEGACY_DEF_SIZE:]):
            om.notes.append(f"map '{name}': definition has {def_sz - LEGACY_DEF_SIZE} extra non-zero bytes "
                            "(iproute2-style pinning/inner map fields); ignored")
        if mtype == 0:
            om.error = f"map '{name}': map type isn't specified"
            continue
        if mtype in MAP_IN_MAP:
            om.error = f"map '{name}': a legacy map-in-map definition does not describe its inner map"
            continue
        d = _Def(type=mtype, key_size=ksz, value_size=vsz, max_entries=maxe, flags=flags)
        om.spec = _spec_from_def(name, d, om.notes)
        if mtype in BTF_ONLY_MAP_TYPES:
            om.needs_btf = (f"map '{name}' ({uapi.map_type_name(mtype)}) can only be created with its BTF "
                            "key/value types")
    return out, None


# --- global data -------------------------------------------------------------

def data_section_kind(name: str, sh_type: str, executable: bool) -> str | None:
    """``data``/``rodata``/``bss`` for the sections libbpf turns into global data maps, else None."""
    if executable:
        return None
    if sh_type == "SHT_PROGBITS":
        if name == ".data" or name.startswith(".data."):
            return "data"
        if name == ".rodata" or name.startswith(".rodata."):
            return "rodata"
    elif sh_type == "SHT_NOBITS" and (name == ".bss" or name.startswith(".bss.")):
        return "bss"
    return None


def data_map(obj_name: str, sec_name: str, kind: str, sec_idx: int, size: int, data: bytes | None,
             btf: Btf | None) -> ObjMap:
    name = internal_map_name(obj_name, sec_name)
    flags = BPF_F_RDONLY_PROG if kind == "rodata" else 0
    om = ObjMap(name=name, kind=kind, sec_idx=sec_idx, sec_offset=0, spec=None)
    btf_fields: dict = {}
    if btf is not None:
        sec_id = btf.datasecs().get(sec_name)
        if sec_id is not None:
            sec = btf.type(sec_id)
            if any(btf.type(v).kind == B.VAR and btf.type(v).extra != B.VAR_STATIC for v, _o, _s in sec.members):
                flags |= BPF_F_MMAPABLE
            special = special_field(btf, sec_id)
            if special:  # the section's DATASEC is the value type, keyless, as libbpf creates it
                blob, ids = encode_subset(btf, [sec_id])
                btf_fields = dict(btf=blob, btf_key_type_id=0, btf_value_type_id=ids[sec_id])
    om.spec = MapSpec(
        name=name,
        type=uapi.MAP_TYPES["array"],
        key_size=4,
        value_size=size,
        max_entries=1,
        flags=flags,
        init=bytes(data) if (kind != "bss" and data) else None,
        frozen=kind == "rodata",
        **btf_fields,
    )
    return om
