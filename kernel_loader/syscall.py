"""The raw ``bpf()`` system call through ctypes, and the ``bpf_attr`` layouts this project uses.

Every call here returns a non-negative result or raises ``BpfError`` with the
errno. Attribute blocks are built with ``struct.pack_into`` on a zeroed buffer
whose size covers the 6.18 ``union bpf_attr`` members we fill.
"""
from __future__ import annotations

import ctypes
import errno as _errno
import os
import platform
import struct

# bpf() command numbers (enum bpf_cmd)
BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_PROG_LOAD = 5
BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_NEXT_ID = 11
BPF_MAP_GET_NEXT_ID = 12
BPF_PROG_GET_FD_BY_ID = 13
BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_BTF_LOAD = 18
BPF_BTF_GET_FD_BY_ID = 19
BPF_MAP_FREEZE = 22
BPF_BTF_GET_NEXT_ID = 23
BPF_ENABLE_STATS = 32

_NR_BPF = {"x86_64": 321, "aarch64": 280, "i686": 357, "armv7l": 386, "riscv64": 280, "ppc64le": 361, "s390x": 351}

ATTR_SIZE = 160  # large enough for every member we set; the kernel checks the tail is zero

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class BpfError(OSError):
    """bpf() failed; ``errno`` holds the reason."""


def nr_bpf() -> int:
    machine = platform.machine()
    try:
        return _NR_BPF[machine]
    except KeyError:
        raise BpfError(_errno.ENOSYS, f"bpf() syscall number unknown for machine {machine!r}") from None


def bpf(cmd: int, attr: ctypes.Array) -> int:
    """Call bpf(cmd, attr, sizeof attr); return the result or raise BpfError."""
    ret = _libc.syscall(nr_bpf(), ctypes.c_int(cmd), ctypes.byref(attr), ctypes.c_uint(len(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise BpfError(err, os.strerror(err))
    return ret


def new_attr() -> ctypes.Array:
    return ctypes.create_string_buffer(ATTR_SIZE)


def addr(buf: ctypes.Array | None) -> int:
    return ctypes.addressof(buf) if buf is not None else 0


def pack(attr: ctypes.Array, fmt: str, offset: int, *values) -> None:
    struct.pack_into(fmt, attr, offset, *values)


def close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
