"""Can this process use bpf(BPF_PROG_LOAD)? One clear sentence when it cannot."""
from __future__ import annotations

import errno as E
import functools
import os

from . import syscall as sc

_HOW_TO = "run with sudo (root or CAP_BPF+CAP_PERFMON), or use `vagrant up` to run in a Linux VM"


@functools.lru_cache(maxsize=1)
def bpf_status() -> tuple[bool, str]:
    """(True, "") when a trivial socket filter loads; else (False, reason with what to do)."""
    import ctypes

    prog = bytes.fromhex("b700000000000000" "9500000000000000")  # r0 = 0; exit
    buf = ctypes.create_string_buffer(prog, len(prog))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = sc.new_attr()
    sc.pack(attr, "<IIQQ", 0, 1, 2, sc.addr(buf), sc.addr(lic))
    try:
        fd = sc.bpf(sc.BPF_PROG_LOAD, attr)
    except sc.BpfError as e:
        if e.errno == E.EPERM:
            who = "as root" if os.geteuid() == 0 else f"as uid {os.geteuid()}"
            return False, f"bpf() is refused {who} (EPERM): {_HOW_TO}."
        if e.errno == E.ENOSYS:
            return False, f"this kernel has no bpf() syscall (ENOSYS): {_HOW_TO}."
        return False, f"bpf(BPF_PROG_LOAD) of a trivial program failed with {E.errorcode.get(e.errno, e.errno)}: {_HOW_TO}."
    sc.close(fd)
    return True, ""


def unprivileged_status() -> tuple[bool, str]:
    """(True, "") when unprivileged loads can run here; else (False, the reason with what to do).

    Unprivileged loads need ``kernel.unprivileged_bpf_disabled`` = 0 (see ``kernel_loader.unpriv``).
    """
    from .unpriv import disabled_reason, read_sysctl

    reason = disabled_reason(read_sysctl())
    return (reason is None), (reason or "")
