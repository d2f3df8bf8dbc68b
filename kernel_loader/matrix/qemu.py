"""One QEMU boot: a kernel, an initramfs, and a shared-memory file the guest writes its records into.

The guest gets no disk and no network: the kernel (``-kernel``), the initramfs (``-initrd``), the
serial console (ttyS0, kept in a file for error messages) and an ``ivshmem-plain`` PCI device whose
memory is a sparse host file. The loader maps that device's BAR through sysfs, so no guest driver
is needed (Debian's 6.1 builds virtio as modules; PCI and sysfs are always built in).
TCG (``-accel tcg``) is used: it boots any stock kernel without depending on the host's KVM.
"""
from __future__ import annotations

import mmap
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import output

QEMU = "qemu-system-x86_64"
CMDLINE = "console=ttyS0 quiet panic=-1 oops=panic mitigations=off rdinit=/init"
DEFAULT_OUT_SIZE = 256 << 20  # sparse: only what the guest writes takes memory; a power of two (PCI BAR)
DEFAULT_MEMORY_MB = 1024
CONSOLE_TAIL = 2000


class QemuUnavailable(RuntimeError):
    """qemu-system-x86_64 is not installed."""


@dataclass
class Boot:
    output: output.GuestOutput
    console: str  # the serial console, for error messages
    returncode: int | None  # None: killed after the timeout
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def console_tail(self) -> str:
        text = self.console.strip()
        return text[-CONSOLE_TAIL:] if text else "(the serial console is empty)"


def qemu_binary() -> str:
    path = shutil.which(QEMU)
    if not path:
        raise QemuUnavailable(f"{QEMU} is not installed (apt-get install qemu-system-x86)")
    return path


def _scratch_dir() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def boot(vmlinuz: Path, initrd: bytes, timeout: float, out_size: int = DEFAULT_OUT_SIZE,
         memory_mb: int = DEFAULT_MEMORY_MB) -> Boot:
    """Boot once, wait for power-off (or ``timeout`` seconds), return what the guest wrote."""
    qemu = qemu_binary()
    with tempfile.TemporaryDirectory(dir=_scratch_dir(), prefix="vd-matrix-") as tmp:
        d = Path(tmp)
        (d / "initrd").write_bytes(initrd)
        shm = d / "out"
        with open(shm, "wb") as f:
            f.truncate(out_size)
        console = d / "console"
        cmd = [
            qemu, "-accel", "tcg", "-m", str(memory_mb), "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-kernel", str(vmlinuz), "-initrd", str(d / "initrd"), "-append", CMDLINE,
            "-chardev", f"file,id=con,path={console}", "-serial", "chardev:con",
            "-object", f"memory-backend-file,id=vdout,share=on,mem-path={shm},size={out_size}",
            "-device", "ivshmem-plain,memdev=vdout",
        ]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            qemu_out, _ = proc.communicate(timeout=timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            qemu_out, _ = proc.communicate()
            rc = None
        except BaseException:  # interrupted: never leave a guest running
            proc.kill()
            proc.wait()
            raise
        seconds = time.monotonic() - t0
        text = console.read_text("utf-8", "replace") if console.exists() else ""
        if qemu_out and qemu_out.strip():
            text += "\n[qemu] " + qemu_out.decode("utf-8", "replace").strip()
        with open(shm, "rb") as f:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                parsed = output.parse(m)
    return Boot(parsed, text, rc, seconds)
