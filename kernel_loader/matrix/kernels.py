"""Debian kernel images for the matrix: which series are available, and fetching one into the cache.

A series (``"6.1"``, ``"6.12"``) resolves through Debian's metapackages (``linux-image-amd64``,
``linux-image-6.12-amd64``) to the current image package, whose ``-unsigned`` variant is fetched
with ``apt-get download`` and unpacked with ``dpkg-deb`` (nothing is installed). Only ``boot/`` is
kept: ``<cache>/<series>/vmlinuz``, ``config`` and ``kernel.json`` (package, version, release), plus
``vmlinux``, the uncompressed PVH-bootable ELF, and ``vmlinux.btf``, its BTF (see bootimage.py).
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .bootimage import btf_from_vmlinux, unpack_image

SYSTEM_CACHE = Path("/var/cache/verifier-diff/kernels")
_SERIES = re.compile(r"^\d+\.\d+$")


class KernelUnavailable(RuntimeError):
    """A kernel series cannot be fetched or is not in the cache; the message says why."""


@dataclass(frozen=True)
class CachedKernel:
    series: str
    vmlinuz: Path
    release: str  # uname -r of the image, from its file name
    package: str
    version: str

    @property
    def image(self) -> Path:
        """What QEMU boots: the PVH ELF when one was unpacked (no decompression under TCG), else the bzImage."""
        elf = self.vmlinuz.with_name("vmlinux")
        return elf if elf.is_file() else self.vmlinuz

    @property
    def btf(self) -> Path:
        """The kernel's BTF (what it serves as /sys/kernel/btf/vmlinux); may be missing for kernels without it."""
        return self.vmlinuz.with_name("vmlinux.btf")


def cache_root() -> Path:
    """Where kernels are kept: $VD_KERNEL_CACHE, else /var/cache/verifier-diff/kernels when it is
    writable (or creatable), else ~/.cache/verifier-diff/kernels."""
    env = os.environ.get("VD_KERNEL_CACHE")
    if env:
        return Path(env)
    probe = SYSTEM_CACHE
    while not probe.exists():
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return SYSTEM_CACHE
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "verifier-diff" / "kernels"


def _search_roots() -> list[Path]:
    roots = [cache_root()]
    if SYSTEM_CACHE not in roots and "VD_KERNEL_CACHE" not in os.environ:
        roots.append(SYSTEM_CACHE)
    return roots


def cached(series: str) -> CachedKernel | None:
    for root in _search_roots():
        meta = root / series / "kernel.json"
        if meta.is_file():
            try:
                d = json.loads(meta.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            vmlinuz = root / series / "vmlinuz"
            if vmlinuz.is_file():
                return CachedKernel(series, vmlinuz, d["release"], d["package"], d["version"])
    return None


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise KernelUnavailable(f"{cmd[0]} is not installed (Debian's apt/dpkg are needed to fetch kernels)") from None
    except subprocess.TimeoutExpired:
        raise KernelUnavailable(f"{' '.join(cmd)} took more than 600 s") from None
    if p.returncode:
        raise KernelUnavailable(f"{' '.join(cmd)} failed: {(p.stderr or p.stdout).strip()[-300:]}")
    return p.stdout


def _depends(meta: str) -> list[str]:
    try:
        text = _run(["apt-cache", "depends", meta])
    except KernelUnavailable:
        return []
    return re.findall(r"^\s*Depends:\s*(\S+)", text, re.M)


def _series_of_image(pkg: str) -> str | None:
    m = re.match(r"^linux-image-(\d+\.\d+)[.-]", pkg)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=None)
def _metapackages() -> dict[str, str]:
    """series -> the image package Debian's amd64 metapackage for that series depends on now."""
    out: dict[str, str] = {}
    try:
        names = _run(["apt-cache", "pkgnames", "linux-image-"]).split()
    except KernelUnavailable:
        return out
    metas = sorted(n for n in names if n == "linux-image-amd64" or re.fullmatch(r"linux-image-\d+\.\d+-amd64", n))
    for meta in metas:
        for dep in _depends(meta):
            s = _series_of_image(dep)
            if s and dep.endswith("-amd64"):
                out.setdefault(s, dep)
    return out


def available_kernels() -> list[str]:
    """Series that are cached or that apt can fetch, oldest first (e.g. ``["6.1", "6.12"]``)."""
    series = set(_metapackages())
    for root in _search_roots():
        if root.is_dir():
            series.update(d.name for d in root.iterdir() if _SERIES.match(d.name) and cached(d.name))
    return sorted(series, key=lambda s: tuple(int(x) for x in s.split(".")))


def image_package(series: str) -> str:
    """The unsigned image package to fetch for ``series``."""
    image = _metapackages().get(series)
    if image is None:
        raise KernelUnavailable(
            f"no Debian metapackage for kernel {series} (known: {', '.join(sorted(_metapackages())) or 'none'}; "
            "run apt-get update, or add the suite that carries it)")
    for cand in (image + "-unsigned", image):
        try:
            _run(["apt-cache", "show", "--no-all-versions", cand])
            return cand
        except KernelUnavailable:
            continue
    raise KernelUnavailable(f"apt knows {image} but neither it nor {image}-unsigned can be shown")


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fetch(series: str) -> CachedKernel:
    """Download and unpack the image of ``series`` into the cache (once; later calls return it)."""
    if not _SERIES.match(series):
        raise KernelUnavailable(f"kernel series must look like 6.1 or 6.12, not {series!r}")
    hit = cached(series)
    if hit:
        if not hit.btf.exists() and hit.image.name == "vmlinux" and os.access(hit.image.parent, os.W_OK):
            btf_from_vmlinux(hit.image, hit.btf)  # a cache written before the BTF was kept
        return hit
    root = cache_root()
    with _locked(root):
        hit = cached(series)
        if hit:
            return hit
        pkg = image_package(series)
        with tempfile.TemporaryDirectory(dir=root, prefix=f".fetch-{series}-") as tmp:
            tmpd = Path(tmp)
            cmd = ["apt-get", "download", "-q"]
            if os.geteuid() == 0:
                cmd += ["-o", "APT::Sandbox::User=root"]  # the _apt user cannot write to our cache
            _run(cmd + [pkg], cwd=tmpd)
            debs = sorted(tmpd.glob("*.deb"))
            if not debs:
                raise KernelUnavailable(f"apt-get download {pkg} left no .deb")
            version = _run(["dpkg-deb", "-f", str(debs[0]), "Version"]).strip()
            unpack = tmpd / "x"
            unpack.mkdir()
            # only boot/ is needed: the kernel is booted directly and needs no modules
            tar = subprocess.run(f"dpkg-deb --fsys-tarfile '{debs[0]}' | tar -x -C '{unpack}' ./boot",
                                 shell=True, capture_output=True, text=True)
            images = sorted((unpack / "boot").glob("vmlinuz-*"))
            if tar.returncode or not images:
                raise KernelUnavailable(f"unpacking {debs[0].name} gave no boot/vmlinuz-*: {tar.stderr.strip()[-300:]}")
            release = images[0].name[len("vmlinuz-"):]
            dest = tmpd / "out"
            dest.mkdir()
            shutil.move(images[0], dest / "vmlinuz")
            unpack_image(dest / "vmlinuz", dest / "vmlinux", dest / "vmlinux.btf")
            config = unpack / "boot" / f"config-{release}"
            if config.exists():
                shutil.move(config, dest / "config")
            (dest / "kernel.json").write_text(json.dumps(
                {"series": series, "package": pkg, "version": version, "release": release}, indent=1))
            final = root / series
            if final.exists():
                shutil.rmtree(final)
            dest.rename(final)
    hit = cached(series)
    assert hit is not None
    return hit
