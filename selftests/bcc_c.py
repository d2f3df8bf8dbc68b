"""BPF programs written in C, compiled with bcc, as self-contained Programs.

``compile_c(path)`` compiles a C file with bcc (``python3-bpfcc``), takes each
function's bytecode after bcc's rewriting (``BPF.dump_func``), and turns every
map reference (an ``ld_imm64`` whose pseudo source is a map fd or a map value)
back into the index of a ``MapSpec`` built from the bcc table (type, key and
value size, max entries, flags). The Program then needs neither bcc nor the
maps bcc created: the kernel loader makes its own.

A C file may start with ``// key: value`` comment lines giving the same
fields as an asm file's header (``name``, ``prog_type``, ``attach_type``,
``prog_flags``, ``license``, ``tags``, ``expect``, ``expect_message``,
``description``); arguments override them.

Command line, the way the C-born entries of the built-in corpus are made (the
``.s`` files are checked in, so running the corpus needs no bcc)::

    python -m selftests.bcc_c selftests/c/map_access.c --out selftests/corpus/builtin

writes one ``.s`` file per function, its header pointing back at the C file
(``c_source``), its body the disassembly (``pyverifier.asm.disassemble``).
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import sys
import tempfile
from pathlib import Path

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import VERDICTS, Expect, MapSpec, Program

from .asmfile import (
    KEYS,
    SIZE_CLASSES,
    format_header,
    load_asm_file,
    parse_header,
    parse_prog_flags,
    size_class,
    split_tags,
    with_expect,
)

_LD_IMM64 = 0x18
_MAP_REF_SRCS = (1, 2)  # BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE
_C_FIELD = re.compile(r"^//\s*([a-z][a-z0-9_]*)\s*:\s?(.*?)\s*$")
_C_KEYS = tuple(k for k in KEYS if k not in ("map", "c_source"))


class BccError(RuntimeError):
    """bcc is missing or could not compile the C file."""


def parse_c_header(text: str, file: str | Path = "<c>") -> dict[str, str]:
    """The leading ``// key: value`` lines of a C file (tags and description are joined)."""
    out: dict[str, str] = {}
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        if not s.startswith("//"):
            break
        m = _C_FIELD.match(s)
        if not m:
            continue
        key, value = m.groups()
        if key not in _C_KEYS:
            raise ValueError(f"{file}: unknown header key {key!r} in '// {key}:'; known: {', '.join(_C_KEYS)}")
        if key in ("tags", "description") and key in out:
            out[key] += (", " if key == "tags" else "\n") + value
        else:
            out[key] = value
    return out


def _import_bcc():
    try:
        import bcc  # noqa: F401  (system site-packages: python3-bpfcc)
        from bcc.libbcc import lib
    except Exception as e:  # ImportError, or OSError when libbcc.so cannot be loaded
        raise BccError(f"bcc is not importable ({e}); install python3-bpfcc") from None
    return bcc, lib


@contextlib.contextmanager
def _captured_stderr():
    """Collect what the C compiler inside libbcc writes to fd 2."""
    buf = tempfile.TemporaryFile(mode="w+b")
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(buf.fileno(), 2)
    out: list[str] = []
    try:
        yield out
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        buf.seek(0)
        out.append(buf.read().decode("utf-8", "replace"))
        buf.close()


class _Tables:
    """The bcc module's tables, by fd, as MapSpecs."""

    def __init__(self, lib_path: str, module: int):
        lib = ctypes.CDLL(lib_path)  # own handle: our argtypes do not touch bcc's
        ull, p = ctypes.c_ulonglong, ctypes.c_void_p
        for fn, res, args in (
            ("bpf_num_tables", ull, [p]),
            ("bpf_table_name", ctypes.c_char_p, [p, ull]),
            ("bpf_table_fd_id", ctypes.c_int, [p, ull]),
            ("bpf_table_type_id", ctypes.c_int, [p, ull]),
            ("bpf_table_key_size_id", ctypes.c_size_t, [p, ull]),
            ("bpf_table_leaf_size_id", ctypes.c_size_t, [p, ull]),
            ("bpf_table_max_entries_id", ull, [p, ull]),
            ("bpf_table_flags_id", ctypes.c_int, [p, ull]),
        ):
            f = getattr(lib, fn)
            f.restype, f.argtypes = res, args
        self.by_fd: dict[int, MapSpec] = {}
        for i in range(lib.bpf_num_tables(module)):
            fd = lib.bpf_table_fd_id(module, i)
            if fd < 0:
                continue
            self.by_fd[fd] = MapSpec(
                name=lib.bpf_table_name(module, i).decode(),
                type=lib.bpf_table_type_id(module, i),
                key_size=lib.bpf_table_key_size_id(module, i),
                value_size=lib.bpf_table_leaf_size_id(module, i),
                max_entries=lib.bpf_table_max_entries_id(module, i),
                flags=lib.bpf_table_flags_id(module, i) & 0xFFFFFFFF,
            )


def relocate_maps(insns: list[Insn], by_fd: dict[int, MapSpec], func: str = "?") -> tuple[list[Insn], list[MapSpec]]:
    """Map fds in ld_imm64 map references -> indices into the returned map list (first use first)."""
    out = list(insns)
    maps: list[MapSpec] = []
    index: dict[int, int] = {}
    for i, ins in enumerate(out):
        if ins.code != _LD_IMM64 or ins.src not in _MAP_REF_SRCS:
            continue
        fd = ins.imm
        if fd not in index:
            if fd not in by_fd:
                raise BccError(f"{func}: insn {i} refers to fd {fd}, which is not one of bcc's tables")
            index[fd] = len(maps)
            maps.append(by_fd[fd])
        out[i] = ins._replace(imm=index[fd])
    return out, maps


def compile_c(
    path: str | Path,
    func: str | None = None,
    prog_type: int | str | None = None,
    source: str = "builtin",
    name: str | None = None,
    cflags: list[str] | None = None,
) -> list[Program]:
    """Compile ``path`` with bcc; one Program per function (or just ``func``).

    ``prog_type`` defaults to the C file's ``// prog_type:`` header. A file with
    one function gives a Program named after the file (or ``name`` / the
    header's ``name``); with several, ``{stem}_{func}``.
    """
    path = Path(path)
    text = path.read_text()
    header = parse_c_header(text, path)
    pt = prog_type if prog_type is not None else header.get("prog_type")
    if pt is None:
        raise ValueError(f"{path}: no program type: pass prog_type or add '// prog_type: NAME'")
    prog_type_n = uapi.prog_type_num(pt)
    bcc, lib = _import_bcc()

    with _captured_stderr() as err:
        try:
            b = bcc.BPF(text=text.encode(), cflags=list(cflags or []))
        except Exception as e:
            compile_error = e
        else:
            compile_error = None
    if compile_error is not None:
        diag = err[0].strip() if err else ""
        raise BccError(f"bcc could not compile {path}: {compile_error}" + (f"\n{diag}" if diag else ""))
    try:
        tables = _Tables(lib._name, b.module)
        funcs = [lib.bpf_function_name(b.module, i).decode() for i in range(lib.bpf_num_functions(b.module))]
        if func is not None:
            if func not in funcs:
                raise BccError(f"{path}: no function {func!r}; it has {', '.join(funcs) or 'none'}")
            funcs = [func]
        license_ = (lib.bpf_module_license(b.module) or b"GPL").decode()
        if "license" in header:
            license_ = header["license"]
        programs = []
        for fn in funcs:
            insns, maps = relocate_maps(decode(b.dump_func(fn.encode())), tables.by_fd, fn)
            if len(funcs) == 1:
                pname = name or header.get("name") or path.stem
            else:
                pname = f"{path.stem}_{fn}"
            tags = [t for t in split_tags(header.get("tags", "")) if t not in SIZE_CLASSES]
            tags.insert(0, size_class(len(insns)))
            verdict = header.get("expect")
            if verdict is not None and verdict not in VERDICTS:
                raise ValueError(f"{path}: expect must be one of {VERDICTS}, got {verdict!r}")
            attach = header.get("attach_type")
            programs.append(
                Program(
                    id=f"{source}/{pname}",
                    source=source,
                    name=pname,
                    prog_type=prog_type_n,
                    insns=encode(insns),
                    maps=tuple(maps),
                    expected_attach_type=uapi.attach_type_num(attach) if attach else None,
                    prog_flags=parse_prog_flags(header.get("prog_flags", "")),
                    license=license_,
                    tags=tuple(tags),
                    expect=Expect(verdict=verdict, message=header.get("expect_message") or None),
                    source_text=text,
                    source_lang="c",
                )
            )
        return programs
    finally:
        b.cleanup()
        b.close()


def asm_file_text(program: Program, c_source: str, description: str | None = None) -> str:
    """The text of the ``.s`` file for a C-born Program (header + disassembly)."""
    from pyverifier.asm import disassemble

    header = format_header(
        name=program.name,
        prog_type=program.prog_type,
        maps=program.maps,
        attach_type=program.expected_attach_type,
        prog_flags=program.prog_flags,
        license=program.license,
        tags=program.tags,
        expect=program.expect,
        c_source=c_source,
        description=description,
    )
    body = disassemble(program.decoded(), [m.name for m in program.maps])
    return header + "# generated by: python -m selftests.bcc_c; edit the C file, not this one\n" + body.rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m selftests.bcc_c",
        description="Compile a BPF C file with bcc and write one asm corpus file (.s) per function.",
    )
    ap.add_argument("c_file", type=Path, help="the C source")
    ap.add_argument("--out", type=Path, required=True, help="directory for the .s files")
    ap.add_argument("--func", help="only this function")
    ap.add_argument("--prog-type", help="program type (default: the C file's '// prog_type:' line)")
    ap.add_argument("--name", help="program name (default: the file's stem)")
    ap.add_argument("--source", default="builtin", help="the programs' source (id prefix), default builtin")
    args = ap.parse_args(argv)

    try:
        programs = compile_c(args.c_file, func=args.func, prog_type=args.prog_type, source=args.source,
                             name=args.name)
    except (BccError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    description = parse_c_header(args.c_file.read_text(), args.c_file).get("description")
    for p in programs:
        dest = args.out / f"{p.name}.s"
        c_rel = os.path.relpath(args.c_file.resolve(), args.out.resolve())
        text = asm_file_text(p, c_rel, description)
        if p.expect.verdict is None and dest.exists():
            # keep the verdict check_corpus recorded from the kernel
            fields, _ = parse_header(dest.read_text(), dest)
            verdict = fields.get("expect", [(0, None)])[0][1]
            if verdict:
                text = with_expect(text, verdict, fields.get("expect_message", [(0, None)])[0][1])
        dest.write_text(text)
        # the file must load back to the very same program
        back = load_asm_file(dest, args.source)
        if back.insns != p.insns or back.maps != p.maps:
            print(f"error: {dest} does not assemble back to the compiled program", file=sys.stderr)
            return 1
        print(f"{dest}: {p.insn_count} insns, {len(p.maps)} maps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
