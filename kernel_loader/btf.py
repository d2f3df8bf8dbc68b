"""Raw BTF blobs: a small builder, and loading a blob into the kernel (``BPF_BTF_LOAD``).

Maps whose values hold kernel-managed fields (``struct bpf_spin_lock``,
``struct bpf_timer``, kptrs, ...) and ``sk_storage`` maps can only be created
with BTF describing their key and value: ``MapSpec.btf`` carries that raw blob
and ``btf_key_type_id``/``btf_value_type_id`` point into it. ``BtfBuilder``
writes such blobs::

    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])
    blob = b.encode()            # key type id i32, value type id val

Members without an explicit bit offset are laid out as a C compiler would
(natural alignment, struct size rounded up to its alignment). The kernel finds
special fields by the struct's name and size, so ``bpf_spin_lock()`` and
``bpf_timer()`` give the sizes the kernel requires.

The builder is pure Python; ``load_btf`` is the only function that calls bpf().
The encoding follows include/uapi/linux/btf.h (version 1, little endian).
"""
from __future__ import annotations

import ctypes
import struct
from typing import Iterable, Sequence

from . import syscall as sc

BTF_MAGIC = 0xEB9F
BTF_VERSION = 1
HEADER_LEN = 24

# kinds (include/uapi/linux/btf.h)
KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD, KIND_TYPEDEF = range(1, 9)
KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_FUNC_PROTO, KIND_VAR, KIND_DATASEC = range(9, 16)
KIND_FLOAT, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64 = range(16, 20)

INT_SIGNED = 1
INT_CHAR = 2
INT_BOOL = 4

FUNC_STATIC, FUNC_GLOBAL, FUNC_EXTERN = 0, 1, 2
VAR_STATIC, VAR_GLOBAL_ALLOCATED, VAR_GLOBAL_EXTERN = 0, 1, 2

PTR_SIZE = 8

# Member spec: (name, type) laid out automatically, (name, type, bit_offset), or
# (name, type, bit_offset, bitfield_bits).
Member = tuple


class BtfBuildError(ValueError):
    """The types asked of the builder are inconsistent."""


def _info(kind: int, vlen: int = 0, kflag: bool = False) -> int:
    return (int(kflag) << 31) | (kind << 24) | (vlen & 0xFFFF)


class BtfBuilder:
    """Collects BTF types (ids from 1, in the order added) and a string table; ``encode()`` gives the blob."""

    def __init__(self) -> None:
        self._strings = bytearray(b"\0")
        self._str_off: dict[str, int] = {"": 0}
        self._types: list[bytes] = []
        # per type id: (kind, size in bytes or None, alignment or None, referenced type id)
        self._meta: list[tuple[int, int | None, int | None, int]] = [(0, None, None, 0)]
        self._named: dict[tuple[int, str], int] = {}
        self._u32: int | None = None

    # --- strings and bookkeeping -----------------------------------------------
    def _str(self, s: str) -> int:
        off = self._str_off.get(s)
        if off is None:
            off = len(self._strings)
            self._strings += s.encode() + b"\0"
            self._str_off[s] = off
        return off

    def _add(self, kind: int, name: str, vlen: int, kflag: bool, size_type: int, tail: bytes,
             size: int | None, align: int | None, ref: int = 0) -> int:
        self._types.append(struct.pack("<III", self._str(name), _info(kind, vlen, kflag), size_type) + tail)
        self._meta.append((kind, size, align, ref))
        tid = len(self._types)
        if name:
            self._named.setdefault((kind, name), tid)
        return tid

    def _check(self, tid: int, what: str) -> None:
        if not 0 <= tid < len(self._meta):
            raise BtfBuildError(f"{what}: type id {tid} does not exist (have {len(self._meta) - 1} types)")

    def __len__(self) -> int:
        return len(self._types)

    def find(self, name: str, kind: int) -> int | None:
        """Id of the first type of ``kind`` named ``name``, or None."""
        return self._named.get((kind, name))

    def size_of(self, tid: int) -> int:
        """Byte size of type ``tid`` (through typedefs and modifiers)."""
        self._check(tid, "size_of")
        for _ in range(32):
            kind, size, _align, ref = self._meta[tid]
            if size is not None:
                return size
            if kind in (KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG, KIND_VAR):
                tid = ref
                continue
            break
        raise BtfBuildError(f"type [{tid}] has no size")

    def align_of(self, tid: int) -> int:
        self._check(tid, "align_of")
        for _ in range(32):
            kind, _size, align, ref = self._meta[tid]
            if align is not None:
                return align
            if kind in (KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG, KIND_VAR):
                tid = ref
                continue
            break
        raise BtfBuildError(f"type [{tid}] has no alignment")

    # --- types -----------------------------------------------------------------
    def int(self, name: str, size: int, signed: bool = False, char: bool = False, bool_: bool = False,
            bits: int | None = None) -> int:
        if size not in (1, 2, 4, 8, 16):
            raise BtfBuildError(f"int {name!r}: size {size} is not 1, 2, 4, 8 or 16")
        enc = (INT_SIGNED if signed else 0) | (INT_CHAR if char else 0) | (INT_BOOL if bool_ else 0)
        nbits = size * 8 if bits is None else bits
        return self._add(KIND_INT, name, 0, False, size, struct.pack("<I", (enc << 24) | nbits),
                         size, min(size, 8))

    def float(self, name: str, size: int) -> int:
        return self._add(KIND_FLOAT, name, 0, False, size, b"", size, min(size, 8))

    def ptr(self, target: int) -> int:
        self._check(target, "ptr")
        return self._add(KIND_PTR, "", 0, False, target, b"", PTR_SIZE, PTR_SIZE, target)

    def typedef(self, name: str, target: int) -> int:
        self._check(target, "typedef")
        return self._add(KIND_TYPEDEF, name, 0, False, target, b"", None, None, target)

    def const(self, target: int) -> int:
        self._check(target, "const")
        return self._add(KIND_CONST, "", 0, False, target, b"", None, None, target)

    def volatile(self, target: int) -> int:
        self._check(target, "volatile")
        return self._add(KIND_VOLATILE, "", 0, False, target, b"", None, None, target)

    def restrict(self, target: int) -> int:
        self._check(target, "restrict")
        return self._add(KIND_RESTRICT, "", 0, False, target, b"", None, None, target)

    def type_tag(self, tag: str, target: int) -> int:
        """``__attribute__((btf_type_tag(tag)))`` on ``target`` (``kptr``, ``percpu_kptr``, ...)."""
        self._check(target, "type_tag")
        return self._add(KIND_TYPE_TAG, tag, 0, False, target, b"", None, None, target)

    def decl_tag(self, tag: str, target: int, component_idx: int = -1) -> int:
        self._check(target, "decl_tag")
        return self._add(KIND_DECL_TAG, tag, 0, False, target, struct.pack("<i", component_idx), None, None)

    def fwd(self, name: str, union: bool = False) -> int:
        return self._add(KIND_FWD, name, 0, union, 0, b"", None, None)

    def _index_type(self) -> int:
        if self._u32 is None:
            self._u32 = self.find("unsigned int", KIND_INT) or self.int("unsigned int", 4)
        return self._u32

    def array(self, elem: int, nelems: int, index_type: int | None = None) -> int:
        self._check(elem, "array")
        idx = self._index_type() if index_type is None else index_type
        self._check(idx, "array index")
        return self._add(KIND_ARRAY, "", 0, False, 0, struct.pack("<III", elem, idx, nelems),
                         self.size_of(elem) * nelems, self.align_of(elem))

    def _composite(self, kind: int, name: str, members: Sequence[Member], size: int | None,
                   align: int | None) -> int:
        tail = bytearray()
        kflag = any(len(m) > 3 and m[3] for m in members)
        offset_bits = 0
        max_align = 1
        end = 0
        for m in members:
            if len(m) < 2:
                raise BtfBuildError(f"{name or '<anon>'}: member {m!r} needs at least (name, type)")
            mname, mtype = m[0], m[1]
            self._check(mtype, f"member {mname!r} of {name or '<anon>'}")
            malign = self.align_of(mtype)
            msize = self.size_of(mtype)
            max_align = max(max_align, malign)
            if len(m) >= 3 and m[2] is not None:
                bit_off = int(m[2])
            elif kind == KIND_UNION:
                bit_off = 0
            else:
                byte = -(-offset_bits // 8)
                byte = -(-byte // malign) * malign
                bit_off = byte * 8
            bits = int(m[3]) if len(m) > 3 and m[3] else 0
            raw = ((bits << 24) | bit_off) if kflag else bit_off
            tail += struct.pack("<III", self._str(mname), mtype, raw)
            width = bits if bits else msize * 8
            offset_bits = bit_off + width
            end = max(end, offset_bits)
        a = align or max_align
        used = -(-end // 8)  # bytes the members occupy
        if size is None:
            size = -(-used // a) * a
        elif size < used:
            raise BtfBuildError(f"{name or '<anon>'}: size {size} is smaller than its members ({used} bytes)")
        return self._add(kind, name, len(members), kflag, size, bytes(tail), size, a)

    def struct(self, name: str, members: Sequence[Member] = (), size: int | None = None,
               align: int | None = None) -> int:
        """A struct; ``size``/``align`` override the computed layout (e.g. an opaque kernel struct)."""
        return self._composite(KIND_STRUCT, name, members, size, align)

    def union(self, name: str, members: Sequence[Member] = (), size: int | None = None,
              align: int | None = None) -> int:
        return self._composite(KIND_UNION, name, members, size, align)

    def enum(self, name: str, values: Iterable[tuple[str, int]], size: int = 4, signed: bool = False) -> int:
        vals = list(values)
        tail = b"".join(struct.pack("<Ii", self._str(n), v if v < 1 << 31 else v - (1 << 32)) for n, v in vals)
        return self._add(KIND_ENUM, name, len(vals), signed, size, tail, size, size)

    def func_proto(self, ret: int, params: Sequence[tuple[str, int]] = ()) -> int:
        self._check(ret, "func_proto return")
        tail = bytearray()
        for pname, ptype in params:
            self._check(ptype, f"parameter {pname!r}")
            tail += struct.pack("<II", self._str(pname), ptype)
        return self._add(KIND_FUNC_PROTO, "", len(params), False, ret, bytes(tail), None, None)

    def func(self, name: str, proto: int, linkage: int = FUNC_GLOBAL) -> int:
        self._check(proto, f"func {name!r}")
        return self._add(KIND_FUNC, name, linkage, False, proto, b"", None, None)

    def var(self, name: str, target: int, linkage: int = VAR_GLOBAL_ALLOCATED) -> int:
        self._check(target, f"var {name!r}")
        return self._add(KIND_VAR, name, 0, False, target, struct.pack("<I", linkage), None, None, target)

    def datasec(self, name: str, vars_: Sequence[tuple[int, int, int]], size: int) -> int:
        """A DATASEC of ``(var type id, offset, size)`` entries."""
        tail = b"".join(struct.pack("<III", v, off, sz) for v, off, sz in vars_)
        return self._add(KIND_DATASEC, name, len(vars_), False, size, tail, size, 1)

    # --- the kernel's special structs ----------------------------------------------
    def bpf_spin_lock(self) -> int:
        """``struct bpf_spin_lock { int val; }`` (4 bytes, as the kernel requires)."""
        tid = self.find("bpf_spin_lock", KIND_STRUCT)
        if tid is None:
            i32 = self.find("int", KIND_INT) or self.int("int", 4, signed=True)
            tid = self.struct("bpf_spin_lock", [("val", i32)])
        return tid

    def bpf_timer(self) -> int:
        """``struct bpf_timer { __u64 :64; __u64 :64; } __aligned(8)``: 16 opaque bytes."""
        tid = self.find("bpf_timer", KIND_STRUCT)
        if tid is None:
            tid = self.struct("bpf_timer", [], size=16, align=8)
        return tid

    def kptr(self, struct_name: str, tag: str = "kptr") -> int:
        """``struct <struct_name> __tag *``: a kptr field's type (the kernel resolves the struct in vmlinux)."""
        target = self.find(struct_name, KIND_STRUCT)
        if target is None:
            target = self.struct(struct_name, [], size=0)
        return self.ptr(self.type_tag(tag, target))

    # --- the blob ----------------------------------------------------------------
    def encode(self) -> bytes:
        types = b"".join(self._types)
        strings = bytes(self._strings)
        hdr = struct.pack("<HBBIIIII", BTF_MAGIC, BTF_VERSION, 0, HEADER_LEN, 0, len(types), len(types), len(strings))
        return hdr + types + strings


# --- loading ---------------------------------------------------------------------------

BTF_LOG_SIZE = 1 << 16


class BtfLoadError(Exception):
    """The kernel refused a BTF blob; ``log`` holds its BTF verifier log."""

    def __init__(self, err: sc.BpfError, log: str):
        self.errno = err.errno
        self.strerror = err.strerror
        self.log = log
        reason = next((ln.strip() for ln in reversed(log.splitlines()) if ln.strip()), "")
        super().__init__(f"BPF_BTF_LOAD failed: {err.strerror}" + (f": {reason}" if reason else ""))


def load_btf(blob: bytes, log_size: int = BTF_LOG_SIZE) -> int:
    """Load ``blob`` with ``BPF_BTF_LOAD``; returns the BTF fd (the caller closes it).

    A refusal is retried with the kernel's log so ``BtfLoadError`` can say why.
    """
    buf = ctypes.create_string_buffer(bytes(blob), len(blob))
    attr = sc.new_attr()
    sc.pack(attr, "<QQII", 0, sc.addr(buf), 0, len(blob), 0)
    try:
        return sc.bpf(sc.BPF_BTF_LOAD, attr)
    except sc.BpfError as first:
        if first.errno not in (22, 7, 13):  # EINVAL, E2BIG, EACCES: the BTF checker said no; ask it why
            raise BtfLoadError(first, "") from None
    log = ctypes.create_string_buffer(log_size)
    attr = sc.new_attr()
    sc.pack(attr, "<QQIII", 0, sc.addr(buf), sc.addr(log), len(blob), log_size, 1)
    try:
        fd = sc.bpf(sc.BPF_BTF_LOAD, attr)
    except sc.BpfError as e:
        raise BtfLoadError(e, log.value.decode("utf-8", "replace")) from None
    return fd  # accepted the second time (should not happen): use it
