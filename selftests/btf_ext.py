"""``.BTF.ext``: per-instruction BTF records of a BPF object (func_info, line_info, CO-RE relocations).

Each kind of record is grouped by the ELF section holding the instructions it
describes (named through the ``.BTF`` string table), and each record starts with
the byte offset of its instruction inside that section. ``parse_btf_ext`` returns
them as plain tuples per section name.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .btf import Btf, BtfError

BTF_EXT_MAGIC = 0xEB9F

# CO-RE relocation kinds (enum bpf_core_relo_kind)
FIELD_BYTE_OFFSET = 0
FIELD_BYTE_SIZE = 1
FIELD_EXISTS = 2
FIELD_SIGNED = 3
FIELD_LSHIFT_U64 = 4
FIELD_RSHIFT_U64 = 5
TYPE_ID_LOCAL = 6
TYPE_ID_TARGET = 7
TYPE_EXISTS = 8
TYPE_SIZE = 9
ENUMVAL_EXISTS = 10
ENUMVAL_VALUE = 11
TYPE_MATCHES = 12

CORE_KIND_NAMES = {
    FIELD_BYTE_OFFSET: "byte_off",
    FIELD_BYTE_SIZE: "byte_sz",
    FIELD_EXISTS: "field_exists",
    FIELD_SIGNED: "signed",
    FIELD_LSHIFT_U64: "lshift_u64",
    FIELD_RSHIFT_U64: "rshift_u64",
    TYPE_ID_LOCAL: "local_type_id",
    TYPE_ID_TARGET: "target_type_id",
    TYPE_EXISTS: "type_exists",
    TYPE_SIZE: "type_size",
    ENUMVAL_EXISTS: "enumval_exists",
    ENUMVAL_VALUE: "enumval_value",
    TYPE_MATCHES: "type_matches",
}


@dataclass(frozen=True)
class CoreRelo:
    insn_off: int  # byte offset of the instruction in its section
    type_id: int  # local (object BTF) root type
    access: str  # access string, e.g. "0:1:2"
    kind: int


@dataclass
class BtfExt:
    func_info: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (insn_off, type_id)
    line_info: dict[str, list[tuple[int, str, str, int, int]]] = field(default_factory=dict)
    # (insn_off, file name, line text, line number, column)
    core_relos: dict[str, list[CoreRelo]] = field(default_factory=dict)


def _records(data: bytes, start: int, length: int, min_rec: int, what: str, btf: Btf, e: str):
    """Yield (section name, record bytes) of one info block."""
    end = start + length
    if end > len(data):
        raise BtfError(f".BTF.ext {what} block runs past the section")
    if length == 0:
        return
    if length < 4:
        raise BtfError(f".BTF.ext {what} block too short")
    (rec_size,) = struct.unpack_from(e + "I", data, start)
    if rec_size < min_rec or rec_size % 4:
        raise BtfError(f".BTF.ext {what} record size {rec_size} is invalid")
    pos = start + 4
    while pos < end:
        if pos + 8 > end:
            raise BtfError(f".BTF.ext {what}: truncated section header")
        sec_off, n = struct.unpack_from(e + "II", data, pos)
        pos += 8
        if pos + n * rec_size > end:
            raise BtfError(f".BTF.ext {what}: {n} records run past the block")
        name = btf.str_at(sec_off)
        for i in range(n):
            yield name, data[pos + i * rec_size : pos + (i + 1) * rec_size]
        pos += n * rec_size


def parse_btf_ext(data: bytes, btf: Btf) -> BtfExt:
    """Parse a ``.BTF.ext`` section; strings resolve through the object's ``btf``. Raises BtfError."""
    if len(data) < 24:
        raise BtfError(f".BTF.ext is {len(data)} bytes, shorter than its header")
    (magic,) = struct.unpack_from("<H", data, 0)
    if magic == BTF_EXT_MAGIC:
        e = "<"
    elif magic == 0x9FEB:
        e = ">"
    else:
        raise BtfError(f"bad .BTF.ext magic {magic:#06x}")
    _m, version, _flags, hdr_len = struct.unpack_from(e + "HBBI", data, 0)
    if version != 1:
        raise BtfError(f"unsupported .BTF.ext version {version}")
    if hdr_len < 24 or hdr_len > len(data):
        raise BtfError(f"bad .BTF.ext header length {hdr_len}")
    fi_off, fi_len, li_off, li_len = struct.unpack_from(e + "IIII", data, 8)
    core_off = core_len = 0
    if hdr_len >= 32:
        core_off, core_len = struct.unpack_from(e + "II", data, 24)
    out = BtfExt()
    for name, rec in _records(data, hdr_len + fi_off, fi_len, 8, "func_info", btf, e):
        out.func_info.setdefault(name, []).append(struct.unpack_from(e + "II", rec, 0))
    for name, rec in _records(data, hdr_len + li_off, li_len, 16, "line_info", btf, e):
        insn_off, file_off, line_off, lc = struct.unpack_from(e + "IIII", rec, 0)
        out.line_info.setdefault(name, []).append(
            (insn_off, btf.str_at(file_off), btf.str_at(line_off), lc >> 10, lc & 0x3FF)
        )
    if core_len:
        for name, rec in _records(data, hdr_len + core_off, core_len, 16, "core_relo", btf, e):
            insn_off, type_id, access_off, kind = struct.unpack_from(e + "IIII", rec, 0)
            out.core_relos.setdefault(name, []).append(CoreRelo(insn_off, type_id, btf.str_at(access_off), kind))
    return out
