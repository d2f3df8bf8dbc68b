"""Loading a corpus of Programs: the built-in one, asm files, or a JSON Lines file.

``load_corpus(spec)`` takes

* ``"builtin"``: the asm files packaged in ``selftests/corpus/builtin``;
* a directory: every ``*.s`` and ``*.jsonl`` file in it and below it; the
  Programs of asm files get the directory's name as their ``source``;
* one ``*.s`` file: its ``source`` is the name of the directory holding it (so a
  built-in file loaded alone keeps its ``builtin/...`` id);
* one ``*.jsonl`` file: one Program a line (``Program.from_json``).

It returns ``(programs, errors)``: a file or line that cannot be loaded is one
``CorpusError`` (file, line, reason) and everything else still loads. A
Program whose id was already seen is an error for the later one. Programs from
a directory are sorted by id; a JSON Lines file keeps its order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pyverifier.program import Program, ProgramFormatError

from .asmfile import CorpusError, load_asm_file

BUILTIN = "builtin"
ASM_SUFFIX = ".s"
JSONL_SUFFIX = ".jsonl"


def builtin_dir() -> Path:
    """The directory of the packaged built-in corpus."""
    return Path(__file__).resolve().parent / "corpus" / BUILTIN


def load_jsonl(path: str | Path) -> tuple[list[Program], list[CorpusError]]:
    """The Programs of a JSON Lines file, in file order; bad lines become errors."""
    path = Path(path)
    programs: list[Program] = []
    errors: list[CorpusError] = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        return [], [CorpusError(path, None, f"cannot read: {e.strerror}")]
    seen: dict[str, int] = {}
    with f:
        lineno = 0
        while True:
            try:
                line = f.readline()
            except UnicodeDecodeError:
                errors.append(CorpusError(path, lineno + 1, "not UTF-8 text; the rest of the file is skipped"))
                break
            if not line:
                break
            lineno += 1
            if not line.strip():
                continue
            try:
                p = Program.from_json(line)
            except (ProgramFormatError, ValueError, TypeError, KeyError) as e:
                errors.append(CorpusError(path, lineno, str(e)))
                continue
            if p.id in seen:
                errors.append(CorpusError(path, lineno, f"duplicate program id {p.id!r} (first on line {seen[p.id]})"))
                continue
            seen[p.id] = lineno
            programs.append(p)
    return programs, errors


def _dedupe(programs: Iterable[tuple[Program, Path, int | None]]) -> tuple[list[Program], list[CorpusError]]:
    seen: dict[str, str] = {}
    out: list[Program] = []
    errors: list[CorpusError] = []
    for p, path, line in programs:
        if p.id in seen:
            errors.append(CorpusError(path, line, f"duplicate program id {p.id!r} (first in {seen[p.id]})"))
            continue
        seen[p.id] = f"{path}:{line}" if line else str(path)
        out.append(p)
    return out, errors


def _load_dir(directory: Path, source: str) -> tuple[list[Program], list[CorpusError]]:
    loaded: list[tuple[Program, Path, int | None]] = []
    errors: list[CorpusError] = []
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and p.suffix in (ASM_SUFFIX, JSONL_SUFFIX)
    )
    for path in files:
        if path.suffix == ASM_SUFFIX:
            try:
                loaded.append((load_asm_file(path, source), path, None))
            except CorpusError as e:
                errors.append(e)
        else:
            progs, errs = load_jsonl(path)
            errors.extend(errs)
            loaded.extend((p, path, None) for p in progs)
    # sort first so that which of two duplicates wins does not depend on the file system
    loaded.sort(key=lambda t: (t[0].id, str(t[1])))
    programs, dup_errors = _dedupe(loaded)
    return programs, errors + dup_errors


def load_corpus(spec: str | Path, source: str | None = None) -> tuple[list[Program], list[CorpusError]]:
    """Load the corpus named by ``spec`` (see the module doc). Never raises for bad content.

    ``source`` overrides the ``source`` (id prefix) given to Programs of asm files.
    """
    if isinstance(spec, str) and spec == BUILTIN:
        return _load_dir(builtin_dir(), source or BUILTIN)
    path = Path(spec)
    if path.is_dir():
        return _load_dir(path, source or path.resolve().name)
    if not path.exists():
        return [], [CorpusError(path, None, "no such file or directory (and not 'builtin')")]
    if path.suffix == JSONL_SUFFIX:
        return load_jsonl(path)
    if path.suffix == ASM_SUFFIX:
        try:
            return [load_asm_file(path, source or path.resolve().parent.name)], []
        except CorpusError as e:
            return [], [e]
    return [], [CorpusError(path, None, f"unknown corpus file kind {path.suffix!r}: expected .s or .jsonl")]


def write_jsonl(programs: Iterable[Program], path: str | Path) -> int:
    """Write ``programs`` as JSON Lines (one Program a line); returns how many were written."""
    path = Path(path)
    n = 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for p in programs:
            f.write(p.to_json())
            f.write("\n")
            n += 1
    tmp.replace(path)
    return n
