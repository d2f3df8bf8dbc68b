"""The special fields of a map value, found in the map's BTF as the 6.18 kernel finds them.

When a map is created with BTF, the kernel walks the value type for fields it
manages itself (its ``btf_parse_fields``): ``struct bpf_spin_lock``,
``struct bpf_timer``, kptrs, list/rbtree roots, ... The result, a *record*, is
what the verifier consults: a load or store may not touch a field, the
``bpf_spin_lock``/``bpf_timer`` helpers need a pointer to exactly the field.

The walk, as measured on the live kernel:

- the value type (typedefs and modifiers resolved) must be a struct or a
  DATASEC (global data); anything else has no fields;
- each struct member (each DATASEC variable, whose size must equal the
  variable's) is looked at through its own BTF type, *without* following
  typedefs or modifiers: a ``typedef struct bpf_spin_lock lock_t`` member is
  plain data; arrays are flattened to their element type;
- a special field is recognised by the struct's name, and then only if it has
  the kernel's size and sits at a multiple of its alignment (otherwise it is
  plain data); a pointer whose target is a type tag (``__kptr``,
  ``__kptr_untrusted``, ``__percpu_kptr``, ``__uptr``) is a kptr;
- a struct member that is not special is searched recursively (unions are
  not), its fields' offsets shifted by the member's;
- the same lock or timer twice at one nesting level, an array of locks or
  timers, fields out of order, past the value or beyond the kernel's maximum
  count make the walk fail. The kernel then keeps no record at all; pyverifier
  reports such maps as not modelled rather than guess (``FieldsError``);
- when several locks come from different nesting levels the last one is the
  map's lock.
"""
from __future__ import annotations

from typing import NamedTuple

from . import btf as B

# kernel field kinds: (size, alignment); names as btf_field_type_name prints them
SPIN_LOCK = "bpf_spin_lock"
RES_SPIN_LOCK = "bpf_res_spin_lock"
TIMER = "bpf_timer"
WORKQUEUE = "bpf_wq"
TASK_WORK = "bpf_task_work"
LIST_HEAD = "bpf_list_head"
LIST_NODE = "bpf_list_node"
RB_ROOT = "bpf_rb_root"
RB_NODE = "bpf_rb_node"
REFCOUNT = "bpf_refcount"
KPTR_UNREF = "kptr_untrusted"
KPTR_REF = "kptr"
KPTR_PERCPU = "percpu_kptr"
UPTR = "uptr"

_STRUCT_FIELDS = {
    SPIN_LOCK: (4, 4), RES_SPIN_LOCK: (8, 8), TIMER: (16, 8), WORKQUEUE: (16, 8), TASK_WORK: (8, 8),
    LIST_HEAD: (16, 8), LIST_NODE: (24, 8), RB_ROOT: (16, 8), RB_NODE: (32, 8), REFCOUNT: (4, 4),
}
_ONCE = frozenset((SPIN_LOCK, RES_SPIN_LOCK, TIMER, WORKQUEUE, TASK_WORK))  # at most one per nesting level
_KPTR_TAGS = {"kptr_untrusted": KPTR_UNREF, "kptr": KPTR_REF, "percpu_kptr": KPTR_PERCPU, "uptr": UPTR}
KPTR_KINDS = frozenset(_KPTR_TAGS.values())
_REPEATABLE = KPTR_KINDS | {LIST_HEAD, RB_ROOT}  # what may sit in an array
FIELDS_MAX = 11
MAX_DEPTH = B.MAX_RESOLVE_DEPTH

# the kinds pyverifier models: direct access to them is refused (measured for each on the live kernel),
# the spin lock and timer helpers checked; kptrs to kernel structs (pyverifier.kptr, with the kernel's BTF);
# bpf_res_spin_lock is not (the kernel's size and rules for it in map values were not confirmed), nor
# per-CPU kptrs, uptrs and graph roots
MODELLED = frozenset((SPIN_LOCK, TIMER, WORKQUEUE, TASK_WORK, KPTR_UNREF, KPTR_REF))


class FieldsError(Exception):
    """The kernel's walk fails on this value type (see the module doc)."""


class Field(NamedTuple):
    kind: str
    offset: int
    size: int
    target: str = ""  # a kptr: the name of the struct it points to (looked up in the kernel's BTF)


class Record(NamedTuple):
    fields: tuple[Field, ...]  # by offset
    spin_lock_off: int  # -1: none
    timer_off: int
    wq_off: int = -1

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.fields)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.fields)


def _field_kind(t: B.BtfType, seen: set) -> str | None:
    """The special kind ``t``'s name gives, ``""`` for a kptr candidate (not a struct), None for a plain struct."""
    name = t.name
    if name in _STRUCT_FIELDS:
        if name in _ONCE:
            if name in seen:
                raise FieldsError(f"two {name} fields in one struct")
            seen.add(name)
        return name
    return "" if t.kind != B.STRUCT else None


def _one(btf: B.Btf, tid: int, off: int, expected_size: int, seen: set, level: int) -> list[Field]:
    t = btf.type(tid)
    nelems = 1
    for _ in range(MAX_DEPTH):
        if t.kind != B.ARRAY:
            break
        nelems *= t.extra[2]
        t = btf.type(t.extra[0])
    else:
        raise FieldsError("array nesting too deep")
    if nelems == 0:
        return []
    kind = _field_kind(t, seen)
    if kind is None and t.kind == B.STRUCT:
        if expected_size and expected_size != t.size_type * nelems:
            return []
        if level + 1 >= MAX_DEPTH:
            raise FieldsError("structs nested too deep")
        inner = _struct(btf, t, level + 1)
        if not inner:
            return inner
        inner = [f._replace(offset=f.offset + off) for f in inner]
        return _repeat(inner, nelems, t.size_type) if nelems > 1 else inner
    if kind is None:
        return []
    if kind == "":  # a kptr candidate: a pointer to a type tag
        if t.kind != B.PTR:
            return []
        tag = btf.type(t.size_type)
        if tag.kind != B.TYPE_TAG:
            return []
        kind = _KPTR_TAGS.get(tag.name)
        if kind is None:
            raise FieldsError(f"pointer tagged {tag.name!r}")
        target = btf.skip_mods_and_typedefs(tag.size_type)[1]
        if target.kind != B.STRUCT:
            raise FieldsError(f"a {kind} to a {target.kind_name}")
        size, align = 8, 8
    else:
        size, align = _STRUCT_FIELDS[kind]
    if expected_size and expected_size != size * nelems:
        return []
    if off % align:
        return []
    if kind not in KPTR_KINDS and (t.kind != B.STRUCT or t.size_type != size):
        return []  # named like a special field, but not the kernel's struct: plain data
    found = [Field(kind, off, size, target.name if kind in KPTR_KINDS else "")]
    return _repeat(found, nelems, size) if nelems > 1 else found


def _repeat(fields: list[Field], nelems: int, elem_size: int) -> list[Field]:
    for f in fields:
        if f.kind not in _REPEATABLE:
            raise FieldsError(f"an array of {f.kind}")
    out = list(fields)
    for i in range(1, nelems):
        out += [f._replace(offset=f.offset + i * elem_size) for f in fields]
        if len(out) > FIELDS_MAX:
            raise FieldsError("too many special fields")
    return out


def _struct(btf: B.Btf, t: B.BtfType, level: int) -> list[Field]:
    seen: set = set()
    out: list[Field] = []
    for i, (_name, mtype, _raw) in enumerate(t.members):
        bits = t.member_bit_offset(i)
        if bits % 8:
            raise FieldsError("a member at a bit offset")
        out += _one(btf, mtype, bits // 8, 0, seen, level)
        if len(out) > FIELDS_MAX:
            raise FieldsError("too many special fields")
    return out


def _datasec(btf: B.Btf, t: B.BtfType) -> list[Field]:
    seen: set = set()
    out: list[Field] = []
    for vtid, off, size in t.members:
        var = btf.type(vtid)
        out += _one(btf, var.size_type, off, size, seen, 0)
        if len(out) > FIELDS_MAX:
            raise FieldsError("too many special fields")
    return out


def parse_record(btf: B.Btf, value_type_id: int, value_size: int) -> Record | None:
    """The record of a map value of type ``value_type_id`` (``None``: no special fields).

    Raises ``FieldsError`` where the kernel's walk fails and ``BtfError`` on
    malformed BTF.
    """
    _, t = btf.skip_mods_and_typedefs(value_type_id)
    if t.kind == B.STRUCT:
        found = _struct(btf, t, 0)
    elif t.kind == B.DATASEC:
        found = _datasec(btf, t)
    else:
        return None
    if not found:
        return None
    next_off = 0
    spin = timer = wq = -1
    for f in found:
        if f.offset + f.size > value_size:
            raise FieldsError(f"{f.kind} at {f.offset} lies past the value ({value_size} bytes)")
        if f.offset < next_off:
            raise FieldsError(f"{f.kind} at {f.offset} overlaps the field before it")
        next_off = f.offset + f.size
        if f.kind == SPIN_LOCK:
            spin = f.offset
        elif f.kind == TIMER:
            timer = f.offset
        elif f.kind == WORKQUEUE:
            wq = f.offset
    kinds = {f.kind for f in found}
    if (LIST_HEAD in kinds or RB_ROOT in kinds) and spin < 0:
        raise FieldsError("a bpf_list_head or bpf_rb_root without a bpf_spin_lock")
    return Record(tuple(sorted(found, key=lambda f: f.offset)), spin, timer, wq)


# map types that may hold each modelled kind (the kernel refuses to create any other with it)
def _types(*names: str) -> frozenset[int]:
    from . import uapi

    return frozenset(uapi.MAP_TYPES[n] for n in names if n in uapi.MAP_TYPES)


_LOCK_MAPS = _types("hash", "array", "cgroup_storage", "sk_storage", "inode_storage", "task_storage",
                    "cgrp_storage")
_TIMER_MAPS = _types("hash", "lru_hash", "array")
BPF_F_RDONLY_PROG = 1 << 7
BPF_F_WRONLY_PROG = 1 << 8


def map_record(spec) -> tuple[Record | None, str | None, bool]:
    """(record, why not modelled, refused) of a ``MapSpec``: the fields its BTF gives the value, or the
    reason pyverifier cannot judge programs using it; ``refused``: the kernel would not even create the
    map (malformed BTF, sizes that differ, fields the map type cannot hold)."""
    if spec.btf is None:
        return None, None, False
    what = f"map '{spec.name}'"
    try:
        btf = B.Btf.parse(spec.btf)
        if spec.btf_key_type_id and btf.resolve_size(spec.btf_key_type_id) != spec.key_size:
            return None, f"maps with BTF the kernel refuses ({what}: BTF key size differs from key_size)", True
        if not spec.btf_value_type_id:
            return None, f"maps with BTF but no value type ({what})", True
        if btf.resolve_size(spec.btf_value_type_id) != spec.value_size:
            return None, f"maps with BTF the kernel refuses ({what}: BTF value size differs from value_size)", True
        rec = parse_record(btf, spec.btf_value_type_id, spec.value_size)
    except B.BtfError as e:
        return None, f"maps with BTF that cannot be parsed ({what}: {e})", True
    except FieldsError as e:
        return None, f"map value BTF whose special fields the kernel rejects ({what}: {e})", False
    if rec is None:
        return None, None, False
    kinds = rec.kinds
    if spec.flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG):
        return None, f"maps with BTF the kernel refuses ({what}: special fields with BPF_F_RDONLY/WRONLY_PROG)", True
    if kinds & {SPIN_LOCK} and spec.type not in _LOCK_MAPS or \
            kinds & {TIMER, WORKQUEUE, TASK_WORK} and spec.type not in _TIMER_MAPS:
        return None, (f"maps with BTF the kernel refuses ({what}: {', '.join(sorted(kinds))} in a map of type "
                      f"{spec.type})"), True
    other = sorted(k for k in kinds if k not in MODELLED)
    if other:
        return None, f"map value {', '.join(other)} fields ({what})", False
    return rec, None, False
