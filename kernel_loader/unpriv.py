"""Unprivileged loads: the kernel's verifier as a user without CAP_BPF sees it.

``load_unprivileged(program)`` forks a child that drops CAP_SYS_ADMIN, CAP_BPF,
CAP_PERFMON and CAP_NET_ADMIN from its effective set, as the kernel
selftests' ``test_verifier`` does for its ``/u`` runs, creates the maps and
loads the program there (the verifier then applies its unprivileged rules:
no pointer leaks, no pointer comparisons, speculative-execution
sanitation...), and sends the Result back over a pipe. The capabilities stay
in the child's permitted set, so it raises them again only to read
``bpf_prog_info`` (whose lengths the kernel hides from unprivileged callers).

The sysctl ``kernel.unprivileged_bpf_disabled`` decides whether the kernel
lets such a process call bpf() at all: 0 allows it, 1 forbids it until the
next boot, 2 forbids it but root may set it back to 0. When it is not 0 the
load is not attempted and the Result says so (verdict ``error``, stage
``permission``); ``unprivileged_bpf(True)`` sets it to 0 for the duration of a
``with`` block and restores the old value afterwards, also on an exception,
Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import threading
import traceback
from contextlib import contextmanager
from typing import Iterator

from pyverifier.program import Program
from pyverifier.result import ERROR, Result

SYSCTL = "/proc/sys/kernel/unprivileged_bpf_disabled"
SYSCTL_NAME = "kernel.unprivileged_bpf_disabled"

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39
ADMIN_CAPS = (CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)

_CAP_VERSION_3 = 0x20080522
_PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


class UnprivilegedUnavailable(Exception):
    """Unprivileged bpf() cannot be enabled as asked."""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _capget() -> tuple[ctypes.Structure, ctypes.Array]:
    hdr = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(hdr), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capget: {os.strerror(err)}")
    return hdr, data


def effective_caps() -> int:
    """This thread's effective capability set as a 64-bit mask."""
    _, data = _capget()
    return data[0].effective | (data[1].effective << 32)


def has_admin_caps() -> bool:
    """Whether CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or CAP_SYS_ADMIN) are effective here."""
    caps = effective_caps()
    if caps >> CAP_SYS_ADMIN & 1:
        return True
    return all(caps >> c & 1 for c in (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN))


def set_effective(caps: tuple[int, ...], on: bool) -> None:
    """Raise or drop ``caps`` in the effective set (they must be in the permitted set to be raised)."""
    hdr, data = _capget()
    for c in caps:
        word, bit = divmod(c, 32)
        if on:
            data[word].effective |= 1 << bit
        else:
            data[word].effective &= ~(1 << bit) & 0xFFFFFFFF
    hdr.version = _CAP_VERSION_3
    hdr.pid = 0
    if _libc.capset(ctypes.byref(hdr), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


@contextmanager
def admin_caps() -> Iterator[None]:
    """Raise the admin capabilities for the block (the child reads prog_info under it)."""
    set_effective(ADMIN_CAPS, True)
    try:
        yield
    finally:
        set_effective(ADMIN_CAPS, False)


# --- the sysctl ---------------------------------------------------------------------------

def read_sysctl() -> int | None:
    """``kernel.unprivileged_bpf_disabled``, or None when it cannot be read."""
    try:
        with open(SYSCTL) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _write_sysctl(value: int) -> None:
    with open(SYSCTL, "w") as f:
        f.write(f"{value}\n")


def disabled_reason(value: int | None) -> str | None:
    """Why unprivileged bpf() is refused with this sysctl value, or None when it is allowed."""
    if value == 0:
        return None
    if value is None:
        return (f"unprivileged bpf() state unknown: cannot read {SYSCTL}; "
                "the kernel may refuse bpf() without CAP_BPF before its verifier runs")
    how = ("it stays 1 until the next boot (1 cannot be reset at run time)" if value == 1 else
           f"allow it for the run with kernel_loader.unpriv.unprivileged_bpf(True) or `verifier-diff run "
           f"--unprivileged --allow-unprivileged-bpf`, which set it to 0 as root and restore {value} afterwards")
    return (f"unprivileged bpf() is disabled on this machine ({SYSCTL_NAME} = {value}): the kernel refuses "
            f"BPF_PROG_LOAD without CAP_BPF before its verifier runs; {how}")


@contextmanager
def unprivileged_bpf(allow: bool = True) -> Iterator[int | None]:
    """Set ``kernel.unprivileged_bpf_disabled`` to 0 (``allow``) or 2 for the block; restore it afterwards.

    Yields the previous value. Raises UnprivilegedUnavailable when the sysctl is
    1 (the kernel locks that value until the next boot) or cannot be written
    (not root). The old value is restored on normal exit, on an exception, on
    Ctrl-C and, while the block runs in the main thread, on SIGTERM.
    """
    old = read_sysctl()
    if old is None:
        raise UnprivilegedUnavailable(f"cannot read {SYSCTL}")
    want = 0 if allow else 2
    if old == want or (not allow and old == 1):
        yield old
        return
    if old == 1:
        raise UnprivilegedUnavailable(
            f"{SYSCTL_NAME} is 1: the kernel keeps unprivileged bpf() disabled until the next boot")
    try:
        _write_sysctl(want)
    except OSError as e:
        raise UnprivilegedUnavailable(f"cannot set {SYSCTL_NAME} to {want}: {e.strerror} (run as root)") from None
    prev_handler = None
    main = threading.current_thread() is threading.main_thread()
    if main:
        def _on_term(signum, frame):  # turn SIGTERM into an exception so the finally below runs
            raise SystemExit(128 + signum)

        prev_handler = signal.signal(signal.SIGTERM, _on_term)
    try:
        yield old
    finally:
        try:
            _write_sysctl(old)
        finally:
            if main:
                signal.signal(signal.SIGTERM, prev_handler)


# --- loading in a child --------------------------------------------------------------------

def _child(program: Program, log_level: int, repeat: int, info: bool, wfd: int) -> None:
    from .loader import load_here

    try:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        set_effective(ADMIN_CAPS, False)
        res = load_here(program, log_level=log_level, repeat=repeat, info=info, privileged=False,
                        info_hook=admin_caps)
        payload = res.to_dict()
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent as a row
        payload = Result(program_id=program.id, verifier="", verdict=ERROR, privileged=False, log_level=log_level,
                         message=f"unprivileged loader failed: {type(e).__name__}: {e}",
                         log=traceback.format_exc()).to_dict()
    data = json.dumps(payload).encode()
    view = memoryview(data)
    while view:
        n = os.write(wfd, view)
        view = view[n:]
    os.close(wfd)


def load_unprivileged(program: Program, log_level: int = 2, repeat: int = 1, info: bool = True) -> Result:
    """``kernel_loader.load`` without the admin capabilities, in a child process (see the module doc)."""
    from .loader import kernel_name
    from .outcome import STAGE_PERMISSION

    reason = disabled_reason(read_sysctl())
    if reason is not None:
        return Result(program_id=program.id, verifier=kernel_name(), verdict=ERROR, privileged=False,
                      log_level=log_level, stage=STAGE_PERMISSION, message=reason)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(rfd)
            _child(program, log_level, repeat, info, wfd)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(wfd)
    chunks = []
    try:
        while True:
            b = os.read(rfd, 1 << 20)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
    raw = b"".join(chunks)
    try:
        res = Result.from_dict(json.loads(raw))
    except (ValueError, TypeError):
        how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exited with {os.WEXITSTATUS(status)}")
        return Result(program_id=program.id, verifier=kernel_name(), verdict=ERROR, privileged=False,
                      log_level=log_level, message=f"the unprivileged loader process {how} without a result")
    if not res.verifier:
        res.verifier = kernel_name()
    return res
