"""Compiling libbpf-style C sources into BPF objects (clang ``-target bpf``), for the ELF importer.

``build_object(src, out)`` runs ``clang -O2 -g -target bpf -D__TARGET_ARCH_<arch>``
with a ``vmlinux.h`` generated from the running kernel's BTF
(``bpftool btf dump file /sys/kernel/btf/vmlinux format c``, cached per kernel
release) and libbpf's headers (``libbpf-dev``), then drops the DWARF sections
(``llvm-strip -g``): ``.BTF`` and ``.BTF.ext`` stay, so the object is small
and still carries everything libbpf reads. A source with a line
``// elf_build: no-btf`` is compiled without ``-g``: its object has no BTF at all.

Command line, the way ``tests/data/elf/*.o`` are made::

    python -m selftests.elf_build selftests/elf_src/*.c --out tests/data/elf
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .btf import KERNEL_BTF

SRC_DIR = Path(__file__).resolve().parent / "elf_src"
_ARCH = {"x86_64": "x86", "aarch64": "arm64", "s390x": "s390", "ppc64le": "powerpc", "riscv64": "riscv"}


class BuildError(RuntimeError):
    """A tool is missing or a compilation failed."""


def tool(name: str, *alternatives: str) -> str:
    for n in (name, *alternatives):
        p = shutil.which(n)
        if p:
            return p
    raise BuildError(f"{name} not found: apt-get install clang llvm bpftool libbpf-dev")


def missing_tools() -> str | None:
    """Why objects cannot be built here, or None when they can."""
    try:
        tool("clang")
        tool("llvm-strip", "llvm-strip-14", "llvm-strip-15", "llvm-strip-16")
        tool("bpftool")
    except BuildError as e:
        return str(e)
    if not Path("/usr/include/bpf/bpf_helpers.h").exists():
        return "libbpf headers missing (/usr/include/bpf/bpf_helpers.h): apt-get install libbpf-dev"
    if not Path(KERNEL_BTF).exists():
        return f"{KERNEL_BTF} missing: the kernel has no BTF to generate vmlinux.h from"
    return None


def vmlinux_h(cache_dir: Path | None = None) -> Path:
    """A directory holding vmlinux.h for the running kernel (generated once per release)."""
    base = cache_dir or Path(tempfile.gettempdir()) / f"verifier-diff-vmlinux-{os.uname().release}"
    header = base / "vmlinux.h"
    if header.exists() and header.stat().st_size > 0:
        return base
    base.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([tool("bpftool"), "btf", "dump", "file", KERNEL_BTF, "format", "c"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"bpftool btf dump failed: {r.stderr.strip()}")
    tmp = header.with_suffix(".tmp")
    tmp.write_text(r.stdout)
    tmp.replace(header)
    return base


def build_object(src: str | Path, out: str | Path, strip: bool = True) -> Path:
    """Compile ``src`` to the BPF object ``out``. Raises BuildError with clang's message."""
    src, out = Path(src), Path(out)
    inc = vmlinux_h()
    arch = _ARCH.get(platform.machine(), platform.machine())
    out.parent.mkdir(parents=True, exist_ok=True)
    full = out.with_suffix(".full.o") if strip else out
    debug = [] if "// elf_build: no-btf" in src.read_text(errors="replace") else ["-g"]
    cmd = [tool("clang"), "-O2", *debug, "-target", "bpf", f"-D__TARGET_ARCH_{arch}", "-I", str(inc),
           "-c", str(src), "-o", str(full)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"clang failed on {src}:\n{r.stderr.strip()}")
    if strip:
        r = subprocess.run([tool("llvm-strip", "llvm-strip-14", "llvm-strip-15", "llvm-strip-16"), "-g",
                            str(full), "-o", str(out)], capture_output=True, text=True)
        full.unlink(missing_ok=True)
        if r.returncode != 0:
            raise BuildError(f"llvm-strip failed on {out}: {r.stderr.strip()}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m selftests.elf_build",
                                 description="Compile libbpf-style C sources into stripped BPF objects.")
    ap.add_argument("sources", nargs="*", type=Path, help=f"C files (default: {SRC_DIR}/*.c)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    args = ap.parse_args(argv)
    why = missing_tools()
    if why:
        print(why, file=sys.stderr)
        return 2
    sources = args.sources or sorted(SRC_DIR.glob("*.c"))
    rc = 0
    for src in sources:
        try:
            out = build_object(src, args.out / (src.stem + ".o"))
            print(f"{src} -> {out} ({out.stat().st_size} bytes)")
        except BuildError as e:
            print(e, file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
