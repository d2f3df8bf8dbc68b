"""The ``Program`` record: one BPF program, ready for any verifier.

See docs/ARCHITECTURE.md. On disk a Program is one JSON object (a line of a
JSON Lines corpus) with these same field names; ``insns`` and map ``init`` are
hex strings, enum fields are names (``socket_filter``) or numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import uapi
from .insn import INSN_SIZE, Insn, decode

VERDICTS = ("accept", "reject")


class ProgramFormatError(ValueError):
    """A Program or MapSpec record is malformed."""


@dataclass(frozen=True)
class MapSpec:
    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    inner: "MapSpec | None" = None  # inner map template for array_of_maps / hash_of_maps
    init: bytes | None = None  # initial value of element 0 of an array map (global data)
    frozen: bool = False  # .rodata: frozen after init, read-only for programs
    # BTF describing key and value (spin lock, timer, kptr fields; sk_storage): a raw BTF blob
    # (header, types, strings, as BPF_BTF_LOAD takes it) and the key's and value's type ids in it
    btf: bytes | None = None
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "type": uapi.map_type_name(self.type),
            "key_size": self.key_size,
            "value_size": self.value_size,
            "max_entries": self.max_entries,
        }
        if self.flags:
            d["flags"] = self.flags
        if self.inner is not None:
            d["inner"] = self.inner.to_dict()
        if self.init is not None:
            d["init"] = self.init.hex()
        if self.frozen:
            d["frozen"] = True
        if self.btf is not None:
            d["btf"] = self.btf.hex()
        if self.btf_key_type_id:
            d["btf_key_type_id"] = self.btf_key_type_id
        if self.btf_value_type_id:
            d["btf_value_type_id"] = self.btf_value_type_id
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MapSpec":
        if not isinstance(d, dict):
            raise ProgramFormatError(f"map spec must be an object, got {type(d).__name__}")
        missing = [k for k in ("type", "key_size", "value_size", "max_entries") if k not in d]
        if missing:
            raise ProgramFormatError(f"map spec {d.get('name', '?')!r} lacks {', '.join(missing)}")
        try:
            mtype = uapi.map_type_num(d["type"])
            sizes = {k: int(d[k]) for k in ("key_size", "value_size", "max_entries")}
        except (TypeError, ValueError) as e:
            raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: {e}") from None
        for k, v in sizes.items():
            if v < 0 or v > 0xFFFFFFFF:
                raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: {k} {v} out of range")
        init = d.get("init")
        try:
            init_b = bytes.fromhex(init) if init is not None else None
        except ValueError:
            raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: init is not hex") from None
        btf = d.get("btf")
        try:
            btf_b = bytes.fromhex(btf) if btf is not None else None
            btf_ids = {k: int(d.get(k, 0)) for k in ("btf_key_type_id", "btf_value_type_id")}
        except (TypeError, ValueError):
            raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: btf is not hex or a btf type id is not a number") from None
        for k, v in btf_ids.items():
            if v < 0 or v > 0xFFFFFFFF:
                raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: {k} {v} out of range")
            if v and btf_b is None:
                raise ProgramFormatError(f"map spec {d.get('name', '?')!r}: {k} without btf")
        return cls(
            name=str(d.get("name", "")),
            type=mtype,
            flags=int(d.get("flags", 0)),
            inner=cls.from_dict(d["inner"]) if d.get("inner") is not None else None,
            init=init_b,
            frozen=bool(d.get("frozen", False)),
            btf=btf_b,
            **btf_ids,
            **sizes,
        )


@dataclass(frozen=True)
class Expect:
    verdict: str | None = None  # "accept" / "reject" / None when the source says nothing
    message: str | None = None  # a substring the rejection log must contain
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. result_unpriv, errstr_unpriv, retval

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.verdict is not None:
            d["verdict"] = self.verdict
        if self.message is not None:
            d["message"] = self.message
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Expect":
        if not d:
            return cls()
        d = dict(d)
        verdict = d.pop("verdict", None)
        if verdict is not None and verdict not in VERDICTS:
            raise ProgramFormatError(f"expect.verdict must be one of {VERDICTS}, got {verdict!r}")
        return cls(verdict=verdict, message=d.pop("message", None), extra=d)


@dataclass(frozen=True)
class Program:
    id: str  # stable, unique: "source/name"
    source: str
    name: str
    prog_type: int
    insns: bytes  # 8 bytes per instruction slot; map refs carry indices into ``maps``
    maps: tuple[MapSpec, ...] = ()
    expected_attach_type: int | None = None
    attach_to: str | None = None
    prog_flags: int = 0
    license: str = "GPL"
    tags: tuple[str, ...] = ()
    expect: Expect = field(default_factory=Expect)
    source_text: str | None = None  # asm or C text the program was made from, for reports
    source_lang: str | None = None  # "asm", "c", ...
    # program BTF (BPF_PROG_LOAD's prog_btf_fd): the raw blob, and the records that refer to it
    btf: bytes | None = None
    func_info: tuple[tuple[int, int], ...] = ()  # (insn index, BTF FUNC type id) per subprogram
    line_info: tuple[tuple[int, int, int, int], ...] = ()  # (insn index, file name off, line off, line_col)

    @property
    def insn_count(self) -> int:
        return len(self.insns) // INSN_SIZE

    def decoded(self) -> list[Insn]:
        return decode(self.insns)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "prog_type": uapi.prog_type_name(self.prog_type),
            "insns": self.insns.hex(),
        }
        if self.expected_attach_type is not None:
            d["expected_attach_type"] = uapi.attach_type_name(self.expected_attach_type)
        if self.attach_to:
            d["attach_to"] = self.attach_to
        if self.prog_flags:
            d["prog_flags"] = self.prog_flags
        d["license"] = self.license
        if self.maps:
            d["maps"] = [m.to_dict() for m in self.maps]
        if self.tags:
            d["tags"] = list(self.tags)
        e = self.expect.to_dict()
        if e:
            d["expect"] = e
        if self.btf is not None:
            d["btf"] = self.btf.hex()
        if self.func_info:
            d["func_info"] = [list(r) for r in self.func_info]
        if self.line_info:
            d["line_info"] = [list(r) for r in self.line_info]
        if self.source_text is not None:
            d["source_text"] = self.source_text
            d["source_lang"] = self.source_lang
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Program":
        if not isinstance(d, dict):
            raise ProgramFormatError(f"program must be a JSON object, got {type(d).__name__}")
        for k in ("prog_type", "insns"):
            if k not in d:
                raise ProgramFormatError(f"program {d.get('id', d.get('name', '?'))!r} lacks {k!r}")
        source = str(d.get("source", "jsonl"))
        name = str(d.get("name") or d.get("id") or "")
        if not name:
            raise ProgramFormatError("program has neither 'name' nor 'id'")
        pid = str(d.get("id") or f"{source}/{name}")
        try:
            insns = bytes.fromhex(d["insns"]) if isinstance(d["insns"], str) else bytes(d["insns"])
        except (ValueError, TypeError):
            raise ProgramFormatError(f"program {pid!r}: insns is not a hex string") from None
        if len(insns) % INSN_SIZE:
            raise ProgramFormatError(
                f"program {pid!r}: insns is {len(insns)} bytes, not a multiple of {INSN_SIZE}"
            )
        try:
            prog_type = uapi.prog_type_num(d["prog_type"])
            eat = d.get("expected_attach_type")
            eat_n = uapi.attach_type_num(eat) if eat is not None else None
        except ValueError as e:
            raise ProgramFormatError(f"program {pid!r}: {e}") from None
        maps = d.get("maps") or []
        if not isinstance(maps, list):
            raise ProgramFormatError(f"program {pid!r}: maps must be a list")
        try:
            map_specs = tuple(MapSpec.from_dict(m) for m in maps)
        except ProgramFormatError as e:
            raise ProgramFormatError(f"program {pid!r}: {e}") from None
        flags = d.get("prog_flags", 0)
        if isinstance(flags, list):
            flags = sum(uapi.PROG_FLAGS[f] for f in flags)
        btf, func_info, line_info = _program_btf(pid, d)
        return cls(
            id=pid,
            source=source,
            name=name,
            prog_type=prog_type,
            insns=insns,
            maps=map_specs,
            expected_attach_type=eat_n,
            attach_to=d.get("attach_to"),
            prog_flags=int(flags),
            license=str(d.get("license", "GPL")),
            tags=tuple(d.get("tags") or ()),
            expect=Expect.from_dict(d.get("expect")),
            source_text=d.get("source_text"),
            source_lang=d.get("source_lang"),
            btf=btf,
            func_info=func_info,
            line_info=line_info,
        )

    @classmethod
    def from_json(cls, line: str) -> "Program":
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ProgramFormatError(f"not valid JSON: {e}") from None
        return cls.from_dict(obj)


def _program_btf(pid: str, d: dict[str, Any]):
    """The ``btf``/``func_info``/``line_info`` fields of a program's JSON object, checked."""
    btf = d.get("btf")
    try:
        btf_b = bytes.fromhex(btf) if btf is not None else None
    except (ValueError, TypeError):
        raise ProgramFormatError(f"program {pid!r}: btf is not a hex string") from None

    def records(key: str, width: int) -> tuple:
        raw = d.get(key) or []
        out = []
        if not isinstance(raw, list):
            raise ProgramFormatError(f"program {pid!r}: {key} must be a list")
        for r in raw:
            if (not isinstance(r, (list, tuple)) or len(r) != width
                    or not all(isinstance(x, int) and x >= 0 for x in r)):
                raise ProgramFormatError(f"program {pid!r}: each {key} record is a list of {width} "
                                         f"non-negative integers, got {r!r}")
            out.append(tuple(r))
        if out and btf_b is None:
            raise ProgramFormatError(f"program {pid!r}: {key} without btf")
        return tuple(out)

    return btf_b, records("func_info", 2), records("line_info", 4)
