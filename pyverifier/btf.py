"""BTF, the BPF Type Format: a pure reader of raw BTF blobs (standard library only, no I/O).

``Btf.parse(data)`` reads a raw BTF blob (the ``.BTF`` ELF section of a clang
``-target bpf`` object, a map's BTF as ``MapSpec.btf`` carries it, or the bytes
of ``/sys/kernel/btf/vmlinux``). Split BTF (a kernel
module's, based on vmlinux) is read with ``Btf.parse(data, base=vmlinux)``:
its type ids continue after the base's and its string offsets past the base's
string table are its own.

Types are ``BtfType`` records indexed by id (id 0 is ``void``). The helpers
follow the definitions libbpf uses, because the ELF importer must compute the
same sizes and names libbpf computes: ``resolve_size`` (a type's byte size
through typedefs, modifiers and arrays), ``skip_mods_and_typedefs``, and
``essential_name`` (a name without its ``___flavor`` suffix). ``encode_subset``
writes a blob holding some types and what they reference.

Reading the running kernel's BTF from disk is ``selftests.btf.kernel_btf()``
(pyverifier does no I/O); the special fields of a map value (spin lock, timer,
kptrs, ...) are computed from a parsed blob by ``pyverifier.btf_fields``.
"""
from __future__ import annotations

import struct

BTF_MAGIC = 0xEB9F

# kinds (include/uapi/linux/btf.h)
UNKN, INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)

KIND_NAMES = (
    "void int ptr array struct union enum fwd typedef volatile const restrict func func_proto var datasec "
    "float decl_tag type_tag enum64"
).split()

# INT encoding bits
INT_SIGNED = 1
INT_CHAR = 2
INT_BOOL = 4

# VAR linkage / FUNC linkage
VAR_STATIC = 0
VAR_GLOBAL_ALLOCATED = 1
VAR_GLOBAL_EXTERN = 2
FUNC_STATIC = 0
FUNC_GLOBAL = 1
FUNC_EXTERN = 2

MAX_RESOLVE_DEPTH = 32
PTR_SIZE = 8  # BPF and x86-64 pointers

_MODS = frozenset((VOLATILE, CONST, RESTRICT, TYPE_TAG))
_SIZED = frozenset((INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT))
_FOLLOW = frozenset((TYPEDEF, VOLATILE, CONST, RESTRICT, VAR, DECL_TAG, TYPE_TAG))


class BtfError(ValueError):
    """The BTF data is malformed, or a type cannot be resolved as asked."""


class BtfType:
    """One BTF type.

    ``size_type`` is the ``size`` of sized kinds and the referenced type id of the
    others. ``members`` depends on the kind: STRUCT/UNION ``(name, type, offset)``
    (``offset`` raw: with ``kflag`` set, bitfield size in the top 8 bits);
    ENUM/ENUM64 ``(name, value)``; FUNC_PROTO ``(name, type)``; DATASEC
    ``(type, offset, size)``. ``extra`` is INT ``(encoding, bit_offset, bits)``,
    ARRAY ``(elem_type, index_type, nelems)``, VAR linkage, DECL_TAG component index.
    """

    __slots__ = ("kind", "name", "vlen", "kflag", "size_type", "members", "extra")

    def __init__(self, kind: int, name: str, vlen: int, kflag: bool, size_type: int, members: tuple, extra):
        self.kind = kind
        self.name = name
        self.vlen = vlen
        self.kflag = kflag
        self.size_type = size_type
        self.members = members
        self.extra = extra

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind] if self.kind < len(KIND_NAMES) else f"kind{self.kind}"

    def __repr__(self) -> str:
        return f"BtfType({self.kind_name} {self.name!r})"

    # --- members of composite types -------------------------------------
    def member_bit_offset(self, i: int) -> int:
        off = self.members[i][2]
        return off & 0xFFFFFF if self.kflag else off

    def member_bitfield_size(self, i: int) -> int:
        return self.members[i][2] >> 24 if self.kflag else 0

    @property
    def is_composite(self) -> bool:
        return self.kind in (STRUCT, UNION)

    @property
    def is_any_enum(self) -> bool:
        return self.kind in (ENUM, ENUM64)


VOID = BtfType(UNKN, "", 0, False, 0, (), None)


class Btf:
    """A parsed BTF blob (see the module doc)."""

    def __init__(self, types: list[BtfType], strings: bytes, base: "Btf | None", endian: str):
        self.types = types  # for split BTF, base types come first: ids are list indices
        self.strings = strings
        self.base = base
        self.endian = endian
        self.start_id = len(base.types) if base is not None else 1
        self._by_name: dict[str, list[int]] | None = None
        self._by_essential: dict[str, list[int]] | None = None

    # --- parsing --------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes, base: "Btf | None" = None) -> "Btf":
        if len(data) < 24:
            raise BtfError(f"BTF data is {len(data)} bytes, shorter than its 24-byte header")
        (magic,) = struct.unpack_from("<H", data, 0)
        if magic == BTF_MAGIC:
            e = "<"
        elif magic == 0x9FEB:
            e = ">"
        else:
            raise BtfError(f"bad BTF magic {magic:#06x}")
        _magic, version, _flags, hdr_len = struct.unpack_from(e + "HBBI", data, 0)
        if version != 1:
            raise BtfError(f"unsupported BTF version {version}")
        type_off, type_len, str_off, str_len = struct.unpack_from(e + "IIII", data, 8)
        if hdr_len < 24 or hdr_len > len(data):
            raise BtfError(f"bad BTF header length {hdr_len}")
        t0 = hdr_len + type_off
        s0 = hdr_len + str_off
        if t0 + type_len > len(data) or s0 + str_len > len(data):
            raise BtfError(
                f"BTF sections run past the data (types {t0}+{type_len}, strings {s0}+{str_len}, "
                f"data {len(data)} bytes)"
            )
        own_strings = bytes(data[s0 : s0 + str_len])
        if base is None and own_strings[:1] not in (b"", b"\0"):
            raise BtfError("BTF string table does not start with an empty string")
        base_strings = base.strings if base is not None else b""
        types: list[BtfType] = list(base.types) if base is not None else [VOID]
        name_cache: dict[int, str] = {}
        nbase = len(base_strings)

        def sname(off: int) -> str:
            s = name_cache.get(off)
            if s is None:
                if off < nbase:
                    buf, o = base_strings, off
                else:
                    buf, o = own_strings, off - nbase
                if o >= len(buf):
                    raise BtfError(f"string offset {off} is past the string table")
                end = buf.find(b"\0", o)
                if end < 0:
                    end = len(buf)
                s = buf[o:end].decode("utf-8", "replace")
                name_cache[off] = s
            return s

        u3 = struct.Struct(e + "III")
        u2 = struct.Struct(e + "II")
        u1 = struct.Struct(e + "I")
        i2 = struct.Struct(e + "Ii")
        pos, end = t0, t0 + type_len
        while pos < end:
            if pos + 12 > end:
                raise BtfError(f"truncated BTF type at byte {pos - t0} of the type section")
            name_off, info, size_type = u3.unpack_from(data, pos)
            pos += 12
            kind = (info >> 24) & 0x1F
            vlen = info & 0xFFFF
            kflag = bool(info >> 31)
            members: tuple = ()
            extra = None
            try:
                if kind == INT:
                    (enc,) = u1.unpack_from(data, pos)
                    pos += 4
                    extra = ((enc >> 24) & 0xF, (enc >> 16) & 0xFF, enc & 0xFF)
                elif kind == ARRAY:
                    extra = u3.unpack_from(data, pos)
                    pos += 12
                elif kind in (STRUCT, UNION):
                    members = tuple((sname(n), t, o) for n, t, o in u3.iter_unpack(data[pos : pos + 12 * vlen]))
                    pos += 12 * vlen
                elif kind == ENUM:
                    # kflag: signed values; otherwise unsigned
                    mask = -1 if kflag else 0xFFFFFFFF
                    members = tuple((sname(n), v & mask) for n, v in i2.iter_unpack(data[pos : pos + 8 * vlen]))
                    pos += 8 * vlen
                elif kind == ENUM64:
                    vals = []
                    for n, lo, hi in u3.iter_unpack(data[pos : pos + 12 * vlen]):
                        v = (hi << 32) | lo
                        if kflag and v >= 1 << 63:
                            v -= 1 << 64
                        vals.append((sname(n), v))
                    members = tuple(vals)
                    pos += 12 * vlen
                elif kind == FUNC_PROTO:
                    members = tuple((sname(n), t) for n, t in u2.iter_unpack(data[pos : pos + 8 * vlen]))
                    pos += 8 * vlen
                elif kind == VAR:
                    (extra,) = u1.unpack_from(data, pos)
                    pos += 4
                elif kind == DATASEC:
                    members = tuple(u3.iter_unpack(data[pos : pos + 12 * vlen]))
                    pos += 12 * vlen
                elif kind == DECL_TAG:
                    (extra,) = struct.unpack_from(e + "i", data, pos)
                    pos += 4
                elif kind in (UNKN,) or kind > ENUM64:
                    raise BtfError(f"type [{len(types)}] has unknown kind {kind}")
            except struct.error:
                raise BtfError(f"truncated BTF type [{len(types)}]") from None
            if pos > end:
                raise BtfError(f"truncated BTF type [{len(types)}]")
            types.append(BtfType(kind, sname(name_off), vlen, kflag, size_type, members, extra))
        return cls(types, base_strings + own_strings, base, e)

    # --- access ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self.types)

    def type(self, tid: int) -> BtfType:
        if not 0 <= tid < len(self.types):
            raise BtfError(f"type id {tid} out of range (BTF has {len(self.types)} types)")
        return self.types[tid]

    def str_at(self, off: int) -> str:
        if not 0 <= off < len(self.strings):
            raise BtfError(f"string offset {off} is past the string table ({len(self.strings)} bytes)")
        end = self.strings.find(b"\0", off)
        if end < 0:
            end = len(self.strings)
        return self.strings[off:end].decode("utf-8", "replace")

    def skip_mods_and_typedefs(self, tid: int) -> tuple[int, BtfType]:
        t = self.type(tid)
        for _ in range(MAX_RESOLVE_DEPTH):
            if t.kind in _MODS or t.kind == TYPEDEF:
                tid = t.size_type
                t = self.type(tid)
            else:
                return tid, t
        raise BtfError(f"type chain from [{tid}] is too deep")

    def skip_mods(self, tid: int) -> tuple[int, BtfType]:
        t = self.type(tid)
        for _ in range(MAX_RESOLVE_DEPTH):
            if t.kind in _MODS:
                tid = t.size_type
                t = self.type(tid)
            else:
                return tid, t
        raise BtfError(f"type chain from [{tid}] is too deep")

    def resolve_size(self, tid: int) -> int:
        """Byte size of type ``tid`` (arrays multiply; typedefs, modifiers and vars are followed)."""
        nelems = 1
        t = self.type(tid)
        for _ in range(MAX_RESOLVE_DEPTH):
            k = t.kind
            if k == UNKN:
                break
            if k in _SIZED:
                size = t.size_type
                if nelems and size > 0xFFFFFFFF // nelems:
                    raise BtfError(f"size of type [{tid}] overflows 32 bits")
                return nelems * size
            if k == PTR:
                return nelems * PTR_SIZE
            if k in _FOLLOW:
                t = self.type(t.size_type)
                continue
            if k == ARRAY:
                n = t.extra[2]
                if nelems and n > 0xFFFFFFFF // nelems:
                    raise BtfError(f"size of type [{tid}] overflows 32 bits")
                nelems *= n
                t = self.type(t.extra[0])
                continue
            raise BtfError(f"type [{tid}] of kind {t.kind_name} has no size")
        raise BtfError(f"type [{tid}] has no size (void or too deep)")

    # --- lookups by name ------------------------------------------------
    def _index(self) -> dict[str, list[int]]:
        if self._by_name is None:
            idx: dict[str, list[int]] = {}
            for i in range(1, len(self.types)):
                n = self.types[i].name
                if n:
                    idx.setdefault(n, []).append(i)
            self._by_name = idx
        return self._by_name

    def find(self, name: str, kind: int | None = None) -> list[int]:
        """Ids of the types named ``name`` (of ``kind`` if given), in id order."""
        ids = self._index().get(name, [])
        if kind is None:
            return list(ids)
        return [i for i in ids if self.types[i].kind == kind]

    def find_essential(self, essential: str) -> list[int]:
        """Ids of the named types whose essential name (no ``___flavor``) is ``essential``."""
        if self._by_essential is None:
            idx: dict[str, list[int]] = {}
            for name, ids in self._index().items():
                idx.setdefault(essential_name(name), []).extend(ids)
            for ids in idx.values():
                ids.sort()
            self._by_essential = idx
        return self._by_essential.get(essential, [])

    def datasecs(self) -> dict[str, int]:
        """Name -> type id of every DATASEC."""
        return {t.name: i for i, t in enumerate(self.types) if t.kind == DATASEC}

    def type_str(self, tid: int) -> str:
        t = self.type(tid)
        return f"[{tid}] {t.kind_name} {t.name or '<anon>'}"


_REF_KINDS = frozenset((PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, VAR, DECL_TAG, TYPE_TAG))


def encode_subset(btf: Btf, roots: list[int]) -> tuple[bytes, dict[int, int]]:
    """A raw BTF blob holding ``roots`` and every type they reference, with new ids.

    Returns (blob, {old id: new id}); id 0 (void) stays 0. The blob is what
    ``BPF_BTF_LOAD`` takes: version 1 header, types, strings, little endian.
    """
    order: list[int] = []
    seen: set[int] = {0}
    stack = [r for r in roots if r]
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen.add(tid)
        order.append(tid)
        t = btf.type(tid)
        refs: list[int] = []
        if t.kind in _REF_KINDS:
            refs.append(t.size_type)
        elif t.kind == ARRAY:
            refs += [t.extra[0], t.extra[1]]
        elif t.kind in (STRUCT, UNION):
            refs += [m[1] for m in t.members]
        elif t.kind == FUNC_PROTO:
            refs.append(t.size_type)
            refs += [m[1] for m in t.members]
        elif t.kind == DATASEC:
            refs += [m[0] for m in t.members]
        stack.extend(reversed([r for r in refs if r not in seen]))
    new_id = {old: i + 1 for i, old in enumerate(order)}
    new_id[0] = 0
    strings = bytearray(b"\0")
    str_off: dict[str, int] = {"": 0}

    def so(name: str) -> int:
        off = str_off.get(name)
        if off is None:
            off = str_off[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return off

    body = bytearray()
    for old in order:
        t = btf.type(old)
        st = new_id[t.size_type] if t.kind in _REF_KINDS or t.kind == FUNC_PROTO else t.size_type
        info = (t.kind << 24) | t.vlen | (1 << 31 if t.kflag else 0)
        body += struct.pack("<III", so(t.name), info, st)
        if t.kind == INT:
            enc, off, bits = t.extra
            body += struct.pack("<I", (enc << 24) | (off << 16) | bits)
        elif t.kind == ARRAY:
            body += struct.pack("<III", new_id[t.extra[0]], new_id[t.extra[1]], t.extra[2])
        elif t.kind in (STRUCT, UNION):
            for n, mt, off in t.members:
                body += struct.pack("<III", so(n), new_id[mt], off)
        elif t.kind == ENUM:
            for n, v in t.members:
                body += struct.pack("<II", so(n), v & 0xFFFFFFFF)
        elif t.kind == ENUM64:
            for n, v in t.members:
                v &= 0xFFFFFFFFFFFFFFFF
                body += struct.pack("<III", so(n), v & 0xFFFFFFFF, v >> 32)
        elif t.kind == FUNC_PROTO:
            for n, pt in t.members:
                body += struct.pack("<II", so(n), new_id[pt])
        elif t.kind == VAR:
            body += struct.pack("<I", t.extra)
        elif t.kind == DATASEC:
            for vt, off, size in t.members:
                body += struct.pack("<III", new_id[vt], off, size)
        elif t.kind == DECL_TAG:
            body += struct.pack("<i", t.extra)
    header = struct.pack("<HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, len(body), len(body), len(strings))
    return header + bytes(body) + bytes(strings), new_id


def essential_name(name: str) -> str:
    """``name`` without a ``___flavor`` suffix, the way libbpf matches CO-RE candidates.

    The suffix starts at the last ``X___Y`` where neither X nor Y is ``_``.
    """
    n = len(name)
    for i in range(n - 5, -1, -1):
        if name[i] != "_" and name[i + 1 : i + 4] == "___" and name[i + 4] != "_":
            return name[: i + 1]
    return name


# bytes that follow the 12-byte common header of a type, per kind: (fixed, per vlen entry)
_TAIL = {
    INT: (4, 0), PTR: (0, 0), ARRAY: (12, 0), STRUCT: (0, 12), UNION: (0, 12), ENUM: (0, 8), FWD: (0, 0),
    TYPEDEF: (0, 0), VOLATILE: (0, 0), CONST: (0, 0), RESTRICT: (0, 0), FUNC: (0, 0), FUNC_PROTO: (0, 8),
    VAR: (4, 0), DATASEC: (0, 12), FLOAT: (0, 0), DECL_TAG: (4, 0), TYPE_TAG: (0, 0), ENUM64: (0, 12),
}


def index_names(data: bytes, kinds: frozenset[int]) -> dict[tuple[str, int], int]:
    """(name, kind) -> lowest type id, for the named types of ``kinds`` in a raw little-endian, non-split blob.

    Only the 12-byte type headers are read (bodies are skipped), which makes
    this about three times faster than ``Btf.parse`` on a kernel's BTF; for
    finding attach targets by name that is all that is needed.
    """
    if len(data) < 24:
        raise BtfError(f"BTF data is {len(data)} bytes, shorter than its header")
    magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, 0)
    if magic != BTF_MAGIC or version != 1:
        raise BtfError(f"not little-endian BTF version 1 (magic {magic:#06x}, version {version})")
    t0, s0 = hdr_len + type_off, hdr_len + str_off
    strings = data[s0 : s0 + str_len]
    out: dict[tuple[str, int], int] = {}
    hdr = struct.Struct("<III")
    pos, end, tid = t0, t0 + type_len, 1
    names: dict[int, str] = {}
    while pos < end:
        name_off, info, _ = hdr.unpack_from(data, pos)
        kind = (info >> 24) & 0x1F
        try:
            fixed, per = _TAIL[kind]
        except KeyError:
            raise BtfError(f"BTF type [{tid}] has unknown kind {kind}") from None
        pos += 12 + fixed + per * (info & 0xFFFF)
        if name_off and kind in kinds:
            name = names.get(name_off)
            if name is None:
                e = strings.find(b"\0", name_off)
                name = strings[name_off : e if e >= 0 else len(strings)].decode("utf-8", "replace")
                names[name_off] = name
            out.setdefault((name, kind), tid)
        tid += 1
    return out
