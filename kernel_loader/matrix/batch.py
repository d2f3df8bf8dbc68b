"""The batch file the guest's loader (``vdload.c``) reads as ``/batch``.

Little-endian throughout::

    "VDB4"  u32 log_level (the statistics flag already added)  u32 count  u32 repeat
    count times, a program:
      u32 index  u32 prog_type  u32 expected_attach_type  u32 prog_flags  u32 attach_btf_id
      u32 insn_count  u32 map_count  u32 btf_length (0xffffffff: none)  u32 func_info_count
      u32 line_info_count  u16 name_length  u16 license_length
      name  license  insns (8 bytes a slot)  btf
      func_info_count times (u32 insn_off, u32 type_id)
      line_info_count times (u32 insn_off, u32 file_name_off, u32 line_off, u32 line_col)
      map_count times, a map:
        u32 type  u32 key_size  u32 value_size  u32 max_entries  u32 flags
        u32 init_length (0xffffffff: none)  u32 btf_length (0xffffffff: none)  u32 btf_key_type_id
        u32 btf_value_type_id  u8 frozen  u8 has_inner  u16 name_length
        name  init  btf  [the inner map template, the same layout, when has_inner]

The program's own BTF (``Program.btf``, ``func_info``, ``line_info``) goes to the guest as it goes to
the running kernel in ``kernel_loader.loader.prog_load``: the guest loads the blob (BPF_BTF_LOAD)
after the maps and passes its fd with the records to BPF_PROG_LOAD (``prog_btf_fd``,
``func_info``, ``line_info``). Records without a blob are not sent (the host sends none then either).

``repeat`` is how many times the guest loads each program (``--repeat``: the timing statistics); the
first load's log is the one reported, the others add their ``verification time``. Older batches are
still read by the guest and by ``read_batch``: ``"VDB3"`` has no BTF fields (no program BTF),
``"VDB2"`` neither those nor ``repeat`` (one load a program).

``index`` is the program's position in the caller's list, echoed in its result record. Names are
sent already cleaned the way ``kernel_loader`` cleans them for the running kernel; ``attach_btf_id``
is already resolved against the guest kernel's own BTF.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from pyverifier.program import MapSpec, Program

from ..maps import _map_name

MAGIC = b"VDB4"
MAGIC_V3 = b"VDB3"  # without program BTF
MAGIC_V2 = b"VDB2"  # without program BTF and the repeat count: one load a program
ABSENT = 0xFFFFFFFF
MAX_REPEAT = 100_000  # vdload.c refuses more

_HEAD_V2 = struct.Struct("<4sII")
_HEAD = struct.Struct("<4sIII")
_PROG_V3 = struct.Struct("<IIIIIIIHH")
_PROG = struct.Struct("<IIIIIIIIIIHH")
_FUNC_INFO = struct.Struct("<II")
_LINE_INFO = struct.Struct("<IIII")
_MAP = struct.Struct("<IIIIIIIIIBBH")


class BatchFormatError(ValueError):
    """A batch file is malformed."""


def prog_name(program: Program) -> bytes:
    """The object name BPF_PROG_LOAD gets: what kernel_loader.loader.prog_load sends to the running kernel."""
    return "".join(c if (c.isalnum() or c == "_") else "_" for c in program.name)[:15].encode()


@dataclass(frozen=True)
class BatchEntry:
    """One program as the guest sees it (the decoded form of a batch record)."""

    index: int
    prog_type: int
    expected_attach_type: int
    prog_flags: int
    attach_btf_id: int
    name: bytes
    license: bytes
    insns: bytes
    maps: tuple[MapSpec, ...]
    btf: bytes | None = None  # the program's BTF blob (prog_btf_fd), None when it has none
    func_info: tuple[tuple[int, int], ...] = ()
    line_info: tuple[tuple[int, int, int, int], ...] = ()


def _encode_map(spec: MapSpec, parts: list[bytes]) -> None:
    name = _map_name(spec.name)
    init, btf = spec.init, spec.btf
    parts.append(_MAP.pack(spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.flags,
                           ABSENT if init is None else len(init), ABSENT if btf is None else len(btf),
                           spec.btf_key_type_id, spec.btf_value_type_id, int(spec.frozen),
                           int(spec.inner is not None), len(name)))
    parts.append(name)
    if init is not None:
        parts.append(init)
    if btf is not None:
        parts.append(btf)
    if spec.inner is not None:
        _encode_map(spec.inner, parts)


def encode_batch(programs: list[tuple[int, Program, int]], log_level: int, repeat: int = 1) -> bytes:
    """The batch file for ``(index, program, attach_btf_id)`` triples; ``log_level`` is sent as given.

    ``repeat``: loads of each program in the guest (1 to ``MAX_REPEAT``).
    """
    if not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be between 1 and {MAX_REPEAT}, not {repeat}")
    parts = [_HEAD.pack(MAGIC, log_level, len(programs), repeat)]
    for index, p, attach_btf_id in programs:
        name = prog_name(p)
        lic = p.license.encode()[:255]
        btf = p.btf
        func_info = p.func_info if btf is not None else ()
        line_info = p.line_info if btf is not None else ()
        parts.append(_PROG.pack(index, p.prog_type, p.expected_attach_type or 0, p.prog_flags, attach_btf_id,
                                len(p.insns) // 8, len(p.maps), ABSENT if btf is None else len(btf),
                                len(func_info), len(line_info), len(name), len(lic)))
        parts += [name, lic, p.insns]
        if btf is not None:
            parts.append(btf)
        parts += [_FUNC_INFO.pack(*r) for r in func_info]
        parts += [_LINE_INFO.pack(*r) for r in line_info]
        for m in p.maps:
            _encode_map(m, parts)
    return b"".join(parts)


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.buf):
            raise BatchFormatError(f"batch truncated while reading {what} at byte {self.pos}")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, st: struct.Struct, what: str) -> tuple:
        return st.unpack(self.take(st.size, what))


def _decode_map(r: _Reader) -> MapSpec:
    (mtype, key, value, entries, flags, init_len, btf_len, key_id, value_id, frozen, has_inner,
     nlen) = r.unpack(_MAP, "map")
    name = r.take(nlen, "map name").decode()
    init = r.take(init_len, "map init") if init_len != ABSENT else None
    btf = r.take(btf_len, "map btf") if btf_len != ABSENT else None
    inner = _decode_map(r) if has_inner else None
    return MapSpec(name=name, type=mtype, key_size=key, value_size=value, max_entries=entries, flags=flags,
                   inner=inner, init=init, frozen=bool(frozen), btf=btf, btf_key_type_id=key_id,
                   btf_value_type_id=value_id)


class Batch(NamedTuple):
    """A decoded batch: what the guest reads."""

    log_level: int
    repeat: int
    entries: list[BatchEntry]


def read_batch(data: bytes) -> Batch:
    """Decode a batch of any version (``"VDB3"``: no program BTF; ``"VDB2"``: that and repeat 1).
    For tests and debugging; the guest is C."""
    r = _Reader(data)
    magic = bytes(data[:4])
    if magic in (MAGIC, MAGIC_V3):
        _, log_level, count, repeat = r.unpack(_HEAD, "header")
        if not 1 <= repeat <= MAX_REPEAT:
            raise BatchFormatError(f"batch asks for {repeat} repetitions (1 to {MAX_REPEAT})")
    elif magic == MAGIC_V2:
        _, log_level, count = r.unpack(_HEAD_V2, "header")
        repeat = 1
    else:
        raise BatchFormatError(f"batch starts with {magic!r}, not {MAGIC!r}, {MAGIC_V3!r} or {MAGIC_V2!r}")
    out = []
    for _ in range(count):
        if magic == MAGIC:
            (index, ptype, eat, flags, btf_id, n_insns, n_maps, btf_len, n_func, n_line, nlen,
             llen) = r.unpack(_PROG, "program")
        else:
            index, ptype, eat, flags, btf_id, n_insns, n_maps, nlen, llen = r.unpack(_PROG_V3, "program")
            btf_len, n_func, n_line = ABSENT, 0, 0
        name = r.take(nlen, "name")
        lic = r.take(llen, "license")
        insns = r.take(8 * n_insns, "insns")
        btf = r.take(btf_len, "program btf") if btf_len != ABSENT else None
        func_info = tuple(r.unpack(_FUNC_INFO, "func_info") for _ in range(n_func))
        line_info = tuple(r.unpack(_LINE_INFO, "line_info") for _ in range(n_line))
        if btf is None and (func_info or line_info):
            raise BatchFormatError(f"program #{index} has func_info or line_info but no BTF")
        maps = tuple(_decode_map(r) for _ in range(n_maps))
        out.append(BatchEntry(index, ptype, eat, flags, btf_id, name, lic, insns, maps, btf, func_info, line_info))
    if r.pos != len(data):
        raise BatchFormatError(f"{len(data) - r.pos} bytes after the last program")
    return Batch(log_level, repeat, out)


def decode_batch(data: bytes) -> tuple[int, list[BatchEntry]]:
    """(log_level, entries) of a batch of either version; ``read_batch`` also gives the repeat count."""
    b = read_batch(data)
    return b.log_level, b.entries
