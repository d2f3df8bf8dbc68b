"""kernel_loader.matrix: verify Programs with other kernels than the running one.

Debian's kernel images (``6.1``, ``6.12``, ...) are fetched with apt into a cache, booted under
QEMU (TCG) with a throw-away initramfs whose /init is a small static loader (``vdload.c``), and
every program of a batch is loaded there with the same maps, program BTF and verdict rules as
``kernel_loader.load`` on the host. One boot per kernel per batch. Guests load at log level 4
(BPF_LOG_STATS alone: messages and statistics, no per-instruction trace) unless a full log is asked.

    available_kernels() -> ["6.1", "6.12"]
    ensure_kernel("6.1") -> Path of the bootable image (fetched once, cached)
    verify_batch("6.1", programs) -> [Result, ...]   verifier "kernel-6.1.0-56-amd64", log_level 4
    verify_batch("6.1", programs, log_level=2) -> the same with full level-2 logs (slower under TCG)
"""
from __future__ import annotations

from pathlib import Path

from .batchrun import GUEST_LOG_LEVEL, GUEST_LOG_LEVELS, BatchStats, verify_batch
from .kernels import KernelUnavailable, available_kernels, fetch
from .loaderbin import ensure_loader
from .qemu import QemuUnavailable, qemu_binary


def ensure_kernel(version: str) -> Path:
    """The image QEMU boots for ``version``, downloading and unpacking it the first time."""
    return fetch(version).image


def matrix_status(version: str | None = None) -> tuple[bool, str]:
    """(True, "") when kernels can be booted (and ``version`` is cached or fetchable); else the reason."""
    try:
        qemu_binary()
    except QemuUnavailable as e:
        return False, str(e)
    if version is not None and version not in available_kernels():
        return False, f"kernel {version} is neither cached nor known to apt (available: {', '.join(available_kernels())})"
    return True, ""


__all__ = ["available_kernels", "ensure_kernel", "verify_batch", "BatchStats", "ensure_loader", "matrix_status",
           "KernelUnavailable", "GUEST_LOG_LEVEL", "GUEST_LOG_LEVELS"]
