"""What the kernel says about loaded objects: ``bpf_prog_info`` and the ids of live programs, maps, BTF.

``prog_info(fd)`` reads ``BPF_OBJ_GET_INFO_BY_FD`` for a program: the
verifier's ``verified_insns`` and the translated and JIT-compiled lengths
(the kernel reports both lengths as 0 to a caller without CAP_BPF). The
``*_ids()`` functions walk ``BPF_{PROG,MAP,BTF}_GET_NEXT_ID``: every object
alive in the kernel, whoever holds it (used to prove the loader leaks none).
"""
from __future__ import annotations

import ctypes
import errno as E
import struct
from dataclasses import dataclass
from typing import Iterator

from . import syscall as sc

PROG_INFO_SIZE = 232  # sizeof(struct bpf_prog_info) up to attach_btf_id (6.0+)

_OFF_ID = 4
_OFF_TAG = 8
_OFF_JITED_LEN = 16
_OFF_XLATED_LEN = 20
_OFF_RUN_TIME_NS = 192
_OFF_RUN_CNT = 200
_OFF_VERIFIED_INSNS = 216


@dataclass(frozen=True)
class ProgInfo:
    id: int
    tag: str  # the program's SHA tag as bpftool prints it (16 hex digits)
    verified_insns: int
    xlated_prog_len: int
    jited_prog_len: int
    run_cnt: int
    run_time_ns: int


def prog_info(fd: int) -> ProgInfo:
    """``bpf_prog_info`` of the program behind ``fd``. Raises BpfError."""
    info = ctypes.create_string_buffer(PROG_INFO_SIZE)
    attr = sc.new_attr()
    sc.pack(attr, "<IIQ", 0, fd, PROG_INFO_SIZE, sc.addr(info))
    sc.bpf(sc.BPF_OBJ_GET_INFO_BY_FD, attr)
    raw = info.raw
    (pid,) = struct.unpack_from("<I", raw, _OFF_ID)
    jited, xlated = struct.unpack_from("<II", raw, _OFF_JITED_LEN)
    run_time, run_cnt = struct.unpack_from("<QQ", raw, _OFF_RUN_TIME_NS)
    (verified,) = struct.unpack_from("<I", raw, _OFF_VERIFIED_INSNS)
    return ProgInfo(
        id=pid,
        tag=raw[_OFF_TAG:_OFF_TAG + 8].hex(),
        verified_insns=verified,
        xlated_prog_len=xlated,
        jited_prog_len=jited,
        run_cnt=run_cnt,
        run_time_ns=run_time,
    )


def _ids(cmd: int) -> Iterator[int]:
    start = 0
    while True:
        attr = sc.new_attr()
        sc.pack(attr, "<I", 0, start)
        try:
            sc.bpf(cmd, attr)
        except sc.BpfError as e:
            if e.errno == E.ENOENT:
                return
            raise
        (start,) = struct.unpack_from("<I", attr, 4)
        yield start


def prog_ids() -> list[int]:
    """Ids of every BPF program loaded in the kernel (needs CAP_SYS_ADMIN)."""
    return list(_ids(sc.BPF_PROG_GET_NEXT_ID))


def map_ids() -> list[int]:
    """Ids of every BPF map in the kernel (needs CAP_SYS_ADMIN)."""
    return list(_ids(sc.BPF_MAP_GET_NEXT_ID))


def btf_ids() -> list[int]:
    """Ids of every BTF object in the kernel, vmlinux's and modules' included (needs CAP_SYS_ADMIN)."""
    return list(_ids(sc.BPF_BTF_GET_NEXT_ID))


def _fd_by_id(cmd: int, oid: int) -> int | None:
    attr = sc.new_attr()
    sc.pack(attr, "<I", 0, oid)
    try:
        return sc.bpf(cmd, attr)
    except sc.BpfError as e:
        if e.errno == E.ENOENT:
            return None  # gone meanwhile
        raise


def _info(fd: int, size: int, extra: tuple = ()) -> bytes:
    buf = ctypes.create_string_buffer(size)
    for fmt, off, *vals in extra:
        struct.pack_into(fmt, buf, off, *vals)
    attr = sc.new_attr()
    sc.pack(attr, "<IIQ", 0, fd, size, sc.addr(buf))
    sc.bpf(sc.BPF_OBJ_GET_INFO_BY_FD, attr)
    return buf.raw


def _name(raw: bytes, off: int) -> str:
    return raw[off:off + 16].split(b"\0", 1)[0].decode("utf-8", "replace")


def prog_name_by_id(pid: int) -> str | None:
    """The name of live program ``pid``, or None when it no longer exists."""
    fd = _fd_by_id(sc.BPF_PROG_GET_FD_BY_ID, pid)
    if fd is None:
        return None
    try:
        return _name(_info(fd, PROG_INFO_SIZE), 64)
    finally:
        sc.close(fd)


def map_name_by_id(mid: int) -> str | None:
    """The name of live map ``mid``, or None when it no longer exists."""
    fd = _fd_by_id(sc.BPF_MAP_GET_FD_BY_ID, mid)
    if fd is None:
        return None
    try:
        return _name(_info(fd, 88), 24)
    finally:
        sc.close(fd)


def btf_data_by_id(bid: int, limit: int = 1 << 16) -> bytes | None:
    """The raw data of live BTF object ``bid`` (at most ``limit`` bytes; b"" when larger), or None when gone."""
    fd = _fd_by_id(sc.BPF_BTF_GET_FD_BY_ID, bid)
    if fd is None:
        return None
    try:
        (size,) = struct.unpack_from("<I", _info(fd, 32), 8)
        if size > limit:
            return b""
        data = ctypes.create_string_buffer(max(size, 1))
        raw = _info(fd, 32, (("<QI", 0, ctypes.addressof(data), size),))
        (size,) = struct.unpack_from("<I", raw, 8)
        return data.raw[:size]
    finally:
        sc.close(fd)
