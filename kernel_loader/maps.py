"""Creating a program's maps in the kernel from ``MapSpec`` records."""
from __future__ import annotations

import ctypes
from contextlib import contextmanager
from typing import Iterator, Sequence

from pyverifier import uapi
from pyverifier.program import MapSpec

from . import syscall as sc
from .btf import BtfLoadError, load_btf


class MapCreateError(Exception):
    """A map of the program could not be created: the load was not attempted."""

    def __init__(self, spec: MapSpec, index: int, err: sc.BpfError, what: str | None = None):
        self.spec = spec
        self.index = index
        self.errno = err.errno
        btf = f", btf key {spec.btf_key_type_id} value {spec.btf_value_type_id}" if spec.btf is not None else ""
        reason = what or err.strerror
        super().__init__(
            f"cannot create map #{index} {spec.name!r} ({uapi.map_type_name(spec.type)}, key {spec.key_size}, "
            f"value {spec.value_size}, entries {spec.max_entries}, flags {spec.flags:#x}{btf}): {reason}"
        )


def _map_name(name: str) -> bytes:
    # the kernel accepts [A-Za-z0-9_.] up to 15 chars
    clean = "".join(c if (c.isalnum() or c in "_.") else "_" for c in name)[:15]
    return clean.encode()


def create_map(spec: MapSpec, inner_fd: int = 0, btf_fd: int = 0) -> int:
    attr = sc.new_attr()
    sc.pack(attr, "<IIIIII", 0, spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.flags, inner_fd)
    name = _map_name(spec.name)
    ctypes.memmove(ctypes.addressof(attr) + 28, name, len(name))
    if btf_fd:
        sc.pack(attr, "<III", 48, btf_fd, spec.btf_key_type_id, spec.btf_value_type_id)
    return sc.bpf(sc.BPF_MAP_CREATE, attr)


def _init_and_freeze(fd: int, spec: MapSpec) -> None:
    if spec.init is not None:
        key = ctypes.create_string_buffer(max(spec.key_size, 4))
        value = ctypes.create_string_buffer(spec.init.ljust(spec.value_size, b"\0")[: spec.value_size], spec.value_size)
        attr = sc.new_attr()
        sc.pack(attr, "<IIQQQ", 0, fd, 0, sc.addr(key), sc.addr(value), 0)
        sc.bpf(sc.BPF_MAP_UPDATE_ELEM, attr)
    if spec.frozen:
        attr = sc.new_attr()
        sc.pack(attr, "<I", 0, fd)
        sc.bpf(sc.BPF_MAP_FREEZE, attr)


class _BtfFds:
    """BTF objects loaded for the maps of one program: one fd per distinct blob, closed together."""

    def __init__(self) -> None:
        self.fds: dict[bytes, int] = {}

    def fd_for(self, blob: bytes | None) -> int:
        if blob is None:
            return 0
        fd = self.fds.get(blob)
        if fd is None:
            fd = load_btf(blob)
            self.fds[blob] = fd
        return fd

    def close(self) -> None:
        for fd in self.fds.values():
            sc.close(fd)
        self.fds.clear()


def _create_one(spec: MapSpec, index: int, btfs: _BtfFds, fds: list[int]) -> int:
    try:
        inner_fd = 0
        if spec.inner is not None:
            inner_fd = create_map(spec.inner, btf_fd=btfs.fd_for(spec.inner.btf))
            fds.append(inner_fd)
        fd = create_map(spec, inner_fd, btfs.fd_for(spec.btf))
        fds.append(fd)
        _init_and_freeze(fd, spec)
    except BtfLoadError as e:
        raise MapCreateError(spec, index, sc.BpfError(e.errno, e.strerror), f"its BTF was refused: {e}") from None
    except sc.BpfError as e:
        raise MapCreateError(spec, index, e) from None
    return fd


@contextmanager
def created_maps(specs: Sequence[MapSpec]) -> Iterator[list[int]]:
    """Create every map (inner templates first); close all fds on exit, also on error.

    BTF blobs are loaded once per distinct blob; their fds are closed as soon as
    the maps exist (a map keeps its own reference to its BTF).
    """
    fds: list[int] = []
    btfs = _BtfFds()
    try:
        try:
            out = [_create_one(spec, i, btfs, fds) for i, spec in enumerate(specs)]
        finally:
            btfs.close()
        yield out
    finally:
        for fd in fds:
            sc.close(fd)
