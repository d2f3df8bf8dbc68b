"""The guest's /init: vdload.c compiled once with ``gcc -static`` and kept next to the kernel cache."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .kernels import cache_root

SOURCE = Path(__file__).with_name("vdload.c")


class LoaderUnavailable(RuntimeError):
    """The static loader cannot be built; the message says why."""


def _digest() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]


def loader_path() -> Path:
    return cache_root().parent / f"vdload-{_digest()}"


def ensure_loader() -> Path:
    """The static loader for the current vdload.c, compiled when missing or out of date."""
    out = loader_path()
    if out.is_file():
        return out
    cc = shutil.which(os.environ.get("CC", "gcc"))
    if not cc:
        raise LoaderUnavailable("gcc is not installed: the guest loader (vdload.c) is compiled with gcc -static")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".vdload-")
    os.close(fd)
    try:
        p = subprocess.run([cc, "-static", "-O2", "-Wall", "-o", tmp, str(SOURCE)], capture_output=True, text=True)
        if p.returncode:
            raise LoaderUnavailable(f"gcc -static {SOURCE.name} failed (is libc6-dev installed?): {p.stderr.strip()[-400:]}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for old in out.parent.glob("vdload-*"):
        if old != out:
            old.unlink(missing_ok=True)
    return out
