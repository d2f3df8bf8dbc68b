"""The asm corpus file format: a header of ``# key: value`` comments, then assembly.

A file looks like::

    # name: map_lookup_null_check
    # prog_type: socket_filter
    # tags: map, helper
    # map: counts type=hash key=4 value=8 entries=16
    # expect: accept
    # description: looks up a key and checks the result for NULL
    r1 = 0
    *(u32 *)(r10 -4) = r1
    ...

The header is every leading line that is blank or starts with ``#``; the body
(everything after it) is assembled by ``pyverifier.asm.assemble`` in the
syntax the kernel's verifier log prints. In the header, ``# key: value`` lines
whose key is a lower-case word are fields (an unknown key is an error, so a
typo cannot pass silently); any other ``#`` line is a free comment.

Keys (one each unless said otherwise):

``name``            the program's name; default: the file name without ``.s``
``prog_type``       required; a uapi name (``xdp``) or number
``attach_type``     optional; the expected attach type (uapi name or number)
``attach_to``       optional; the attach target's name (tracing, LSM)
``prog_flags``      optional; ``uapi.PROG_FLAGS`` names separated by commas, or a number
``license``         default ``GPL``
``tags``            comma-separated; may be repeated (the lists are joined)
``expect``          ``accept`` or ``reject``
``expect_message``  a substring of the kernel's rejection message
``map``             repeatable, in the order of the map indices:
                    ``NAME type=T key=K value=V entries=N [flags=F] [frozen] [init=HEX]``
``c_source``        optional; path of the C file the program was compiled from,
                    relative to the asm file; its text becomes ``source_text``
                    (``source_lang`` ``c``); otherwise the asm file's text is the
                    ``source_text`` (``source_lang`` ``asm``)
``description``     free text; may be repeated (the lines are joined)

A size-class tag (``simple`` < 100 instructions, ``medium`` < 1000,
``complex`` < 10000, else ``maximum``) is added from the instruction count;
a size class in ``tags`` must agree with the count.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pyverifier import uapi
from pyverifier.insn import encode
from pyverifier.program import VERDICTS, Expect, MapSpec, Program

SIZE_CLASSES = ("simple", "medium", "complex", "maximum")
_SIZE_LIMITS = ((100, "simple"), (1000, "medium"), (10000, "complex"))

KEYS = (
    "name",
    "prog_type",
    "attach_type",
    "attach_to",
    "prog_flags",
    "license",
    "tags",
    "expect",
    "expect_message",
    "map",
    "c_source",
    "description",
)
_REPEATABLE = ("map", "tags", "description")

_FIELD = re.compile(r"^#\s*([a-z][a-z0-9_]*)\s*:\s?(.*?)\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_MAP_ATTRS = {"type", "key", "value", "entries", "flags", "init", "frozen"}


class CorpusError(ValueError):
    """A corpus entry that cannot be loaded: which file, which line, and what is wrong."""

    def __init__(self, file: str | Path, line: int | None, what: str):
        self.file = str(file)
        self.line = line
        self.what = what
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {what}")


def size_class(insn_count: int) -> str:
    """The size-class tag for a program of ``insn_count`` instruction slots."""
    for limit, name in _SIZE_LIMITS:
        if insn_count < limit:
            return name
    return "maximum"


def parse_map_spec(text: str) -> MapSpec:
    """``NAME type=T key=K value=V entries=N [flags=F] [frozen] [init=HEX]`` -> MapSpec.

    Raises ValueError naming the problem.
    """
    words = text.split()
    if not words:
        raise ValueError("map: needs NAME type=T key=K value=V entries=N")
    name, attrs = words[0], {}
    if "=" in name or not _NAME.match(name):
        raise ValueError(f"map: first word must be the map's name, got {name!r}")
    for w in words[1:]:
        k, eq, v = w.partition("=")
        if k not in _MAP_ATTRS:
            raise ValueError(f"map {name}: unknown attribute {k!r}; known: {', '.join(sorted(_MAP_ATTRS))}")
        if k in attrs:
            raise ValueError(f"map {name}: attribute {k!r} given twice")
        if k == "frozen":
            if eq:
                raise ValueError(f"map {name}: 'frozen' takes no value")
            attrs[k] = True
            continue
        if not eq or not v:
            raise ValueError(f"map {name}: attribute {k!r} needs a value ({k}=...)")
        attrs[k] = v
    missing = [k for k in ("type", "key", "value", "entries") if k not in attrs]
    if missing:
        raise ValueError(f"map {name}: missing {', '.join(m + '=' for m in missing)}")
    mtype = uapi.map_type_num(attrs["type"])
    nums = {}
    for k in ("key", "value", "entries", "flags"):
        if k in attrs:
            try:
                nums[k] = int(attrs[k], 0)
            except ValueError:
                raise ValueError(f"map {name}: {k}={attrs[k]!r} is not a number") from None
            if not 0 <= nums[k] <= 0xFFFFFFFF:
                raise ValueError(f"map {name}: {k}={attrs[k]} out of range")
    init = None
    if "init" in attrs:
        try:
            init = bytes.fromhex(attrs["init"])
        except ValueError:
            raise ValueError(f"map {name}: init={attrs['init']!r} is not hex") from None
        if len(init) > nums["value"]:
            raise ValueError(f"map {name}: init is {len(init)} bytes, longer than value={nums['value']}")
    return MapSpec(
        name=name,
        type=mtype,
        key_size=nums["key"],
        value_size=nums["value"],
        max_entries=nums["entries"],
        flags=nums.get("flags", 0),
        init=init,
        frozen=bool(attrs.get("frozen", False)),
    )


def format_map_spec(m: MapSpec) -> str:
    """The ``# map:`` value for ``m`` (the inverse of ``parse_map_spec``)."""
    if m.inner is not None:
        raise ValueError(f"map {m.name}: maps of maps cannot be written in the asm header")
    s = (
        f"{m.name} type={uapi.map_type_name(m.type)} key={m.key_size} value={m.value_size} "
        f"entries={m.max_entries}"
    )
    if m.flags:
        s += f" flags={m.flags:#x}"
    if m.frozen:
        s += " frozen"
    if m.init is not None:
        s += f" init={m.init.hex()}"
    return s


def parse_prog_flags(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    try:
        return int(text, 0)
    except ValueError:
        pass
    flags = 0
    for word in text.split(","):
        word = word.strip().lower()
        if word.startswith("bpf_f_"):
            word = word[len("bpf_f_"):]
        if word not in uapi.PROG_FLAGS:
            raise ValueError(f"unknown prog flag {word!r}; known: {', '.join(uapi.PROG_FLAGS)}")
        flags |= uapi.PROG_FLAGS[word]
    return flags


def format_prog_flags(flags: int) -> str:
    names = [n for n, bit in uapi.PROG_FLAGS.items() if flags & bit]
    rest = flags & ~sum(uapi.PROG_FLAGS[n] for n in names)
    return ", ".join(names + ([f"{rest:#x}"] if rest else []))


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_header(text: str, file: str | Path = "<text>") -> tuple[dict[str, list[tuple[int, str]]], int]:
    """The header fields of an asm file and the number of header lines.

    Returns ({key: [(line number, value), ...]}, n) where lines 1..n are the header.
    """
    fields: dict[str, list[tuple[int, str]]] = {}
    lines = text.split("\n")
    n = 0
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if s and not s.startswith("#"):
            break
        n = i
        m = _FIELD.match(s)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if key not in KEYS:
            raise CorpusError(file, i, f"unknown header key {key!r}; known: {', '.join(KEYS)}")
        if key in fields and key not in _REPEATABLE:
            raise CorpusError(file, i, f"header key {key!r} given twice (first on line {fields[key][0][0]})")
        fields.setdefault(key, []).append((i, value))
    return fields, n


def _one(fields, key):
    v = fields.get(key)
    return v[0] if v else (None, None)


class _KernelFuncs(Mapping):
    """kfunc names of ``call NAME`` -> BTF ids of the running kernel, looked up only when a
    call names neither a helper nor a label (the ids belong to this kernel's build)."""

    def __getitem__(self, name: str) -> int:
        from kernel_loader.vmlinux import func_id  # the index the matrix resolves kfuncs with

        try:
            bid = func_id(name)
        except (OSError, ValueError):  # no kernel BTF, or a malformed one
            bid = None
        if bid is None:
            raise KeyError(name)
        return bid

    def __contains__(self, name) -> bool:
        try:
            self[name]
        except KeyError:
            return False
        return True

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


def parse_asm_text(text: str, file: str | Path = "<text>", source: str = "builtin",
                   default_name: str | None = None) -> Program:
    """A Program from the text of an asm corpus file. Raises CorpusError."""
    from pyverifier.asm import AsmError, assemble  # the assembler is a sibling module landing separately

    path = Path(file)
    fields, header_len = parse_header(text, file)

    line, name = _one(fields, "name")
    if name is None:
        name = default_name if default_name is not None else path.stem
    if not name or not _NAME.match(name):
        raise CorpusError(file, line, f"name {name!r} must be letters, digits, '_', '-' or '.'")

    line, pt = _one(fields, "prog_type")
    if pt is None:
        raise CorpusError(file, None, "header lacks '# prog_type: NAME' (e.g. socket_filter, xdp, kprobe)")
    try:
        prog_type = uapi.prog_type_num(pt)
    except ValueError as e:
        raise CorpusError(file, line, str(e)) from None

    attach = None
    line, at = _one(fields, "attach_type")
    if at:
        try:
            attach = uapi.attach_type_num(at)
        except ValueError as e:
            raise CorpusError(file, line, str(e)) from None

    prog_flags = 0
    line, pf = _one(fields, "prog_flags")
    if pf:
        try:
            prog_flags = parse_prog_flags(pf)
        except ValueError as e:
            raise CorpusError(file, line, str(e)) from None

    line, lic = _one(fields, "license")
    license_ = lic if lic else "GPL"

    tags: list[str] = []
    for _, t in fields.get("tags", []):
        for tag in split_tags(t):
            if tag not in tags:
                tags.append(tag)

    line, verdict = _one(fields, "expect")
    if verdict is not None and verdict not in VERDICTS:
        raise CorpusError(file, line, f"expect must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    mline, message = _one(fields, "expect_message")
    if message is not None and verdict != "reject":
        raise CorpusError(file, mline, "expect_message needs '# expect: reject'")
    expect = Expect(verdict=verdict or None, message=message or None)

    maps: list[MapSpec] = []
    for line, spec in fields.get("map", []):
        try:
            m = parse_map_spec(spec)
        except ValueError as e:
            raise CorpusError(file, line, str(e)) from None
        if any(m.name == o.name for o in maps):
            raise CorpusError(file, line, f"map {m.name!r} declared twice")
        maps.append(m)

    source_text, source_lang = text, "asm"
    line, c_source = _one(fields, "c_source")
    if c_source:
        c_path = path.parent / c_source
        try:
            source_text = c_path.read_text()
        except OSError as e:
            raise CorpusError(file, line, f"c_source {c_source!r}: cannot read {c_path}: {e.strerror}") from None
        source_lang = "c"

    # the body keeps its line numbers: header lines become blank lines for the assembler
    lines = text.split("\n")
    body = "\n" * header_len + "\n".join(lines[header_len:])
    if not body.strip():
        raise CorpusError(file, header_len or None, "no instructions after the header")
    try:
        insns = assemble(body, [m.name for m in maps], _KernelFuncs())
    except AsmError as e:
        lineno = getattr(e, "lineno", None)
        reason, line_text = getattr(e, "reason", None), getattr(e, "line", None)
        what = f"{reason}: {line_text.strip()!r}" if reason and isinstance(line_text, str) else str(e)
        raise CorpusError(file, lineno, what) from None
    if not insns:
        raise CorpusError(file, None, "no instructions after the header")

    count = len(insns)
    actual = size_class(count)
    declared = [t for t in tags if t in SIZE_CLASSES]
    if declared:
        tline = fields["tags"][0][0]
        if declared != [actual] and not (declared == ["maximum"] and actual in ("complex", "maximum")):
            raise CorpusError(file, tline, f"tags say {'/'.join(declared)} but the program has {count} "
                                           f"instructions: size class {actual}")
    else:
        tags.insert(0, actual)

    return Program(
        id=f"{source}/{name}",
        source=source,
        name=name,
        prog_type=prog_type,
        insns=encode(insns),
        maps=tuple(maps),
        expected_attach_type=attach,
        attach_to=_one(fields, "attach_to")[1] or None,
        prog_flags=prog_flags,
        license=license_,
        tags=tuple(tags),
        expect=expect,
        source_text=source_text,
        source_lang=source_lang,
    )


def load_asm_file(path: str | Path, source: str = "builtin") -> Program:
    """The Program of one asm corpus file; its id is ``f"{source}/{name}"``. Raises CorpusError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(path, None, f"cannot read: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(path, data.count(b"\n", 0, e.start) + 1, "not UTF-8 text") from None
    return parse_asm_text(text, path, source)


def format_header(
    *,
    name: str,
    prog_type: int,
    maps: tuple[MapSpec, ...] | list[MapSpec] = (),
    attach_type: int | None = None,
    attach_to: str | None = None,
    prog_flags: int = 0,
    license: str = "GPL",
    tags: tuple[str, ...] | list[str] = (),
    expect: Expect | None = None,
    c_source: str | None = None,
    description: str | None = None,
) -> str:
    """The header lines of an asm file, ending with a newline."""
    out = [f"# name: {name}", f"# prog_type: {uapi.prog_type_name(prog_type)}"]
    if attach_type is not None:
        out.append(f"# attach_type: {uapi.attach_type_name(attach_type)}")
    if attach_to:
        out.append(f"# attach_to: {attach_to}")
    if prog_flags:
        out.append(f"# prog_flags: {format_prog_flags(prog_flags)}")
    if license != "GPL":
        out.append(f"# license: {license}")
    if tags:
        out.append(f"# tags: {', '.join(tags)}")
    if expect is not None and expect.verdict:
        out.append(f"# expect: {expect.verdict}")
        if expect.message:
            out.append(f"# expect_message: {expect.message}")
    for m in maps:
        out.append(f"# map: {format_map_spec(m)}")
    if c_source:
        out.append(f"# c_source: {c_source}")
    for d in (description or "").splitlines():
        if d.strip():
            out.append(f"# description: {d.strip()}")
    return "\n".join(out) + "\n"


def with_expect(text: str, verdict: str | None, message: str | None = None) -> str:
    """``text`` (an asm file) with its ``expect`` and ``expect_message`` header lines replaced.

    The new lines go where the old ``expect`` line was, else after ``tags``,
    else after ``prog_type`` (or at the top). ``verdict`` None removes both.
    """
    if message is not None and "\n" in message:
        raise ValueError("expect_message must be one line")
    fields, header_len = parse_header(text)
    lines = text.split("\n")
    drop = {ln for key in ("expect", "expect_message") for ln, _ in fields.get(key, [])}
    anchor_key = next((k for k in ("expect", "tags", "prog_type", "name") if k in fields), None)
    anchor = fields[anchor_key][-1][0] if anchor_key else 0
    new = []
    if verdict is not None:
        new.append(f"# expect: {verdict}")
        if message:
            new.append(f"# expect_message: {message}")
    out: list[str] = []
    if anchor == 0:
        out.extend(new)
    for i, line in enumerate(lines, 1):
        if i not in drop:
            out.append(line)
        if i == anchor:
            out.extend(new)
    return "\n".join(out)
