"""Attach targets by name: ``attach_btf_id`` from the running kernel's BTF (/sys/kernel/btf/vmlinux).

Tracing (``tp_btf``, ``fentry``, ``fexit``, ``fmod_ret``, ``iter``) and LSM
programs name their target at load time by a BTF type id of the kernel. A
``Program`` carries the target's plain name in ``attach_to`` (``sched_switch``,
``file_open``, ``task``, ``do_unlinkat``); the id is found as libbpf finds it:
the name with a prefix that depends on the expected attach type, as a type of
one kind, the first such type in id order:

=====================================  ==============  ==========
expected attach type                   prefix          BTF kind
=====================================  ==============  ==========
``trace_raw_tp`` (tp_btf)              ``btf_trace_``  TYPEDEF
``lsm_mac``, ``lsm_cgroup``            ``bpf_lsm_``    FUNC
``trace_iter``                         ``bpf_iter_``   FUNC
anything else (fentry, fexit, ...)     (none)          FUNC
=====================================  ==============  ==========

Only names and kinds are needed, so the index scans the type headers and skips
their bodies (about 0.2 s for a 5 MB vmlinux BTF), once per process.
"""
from __future__ import annotations

import os
import struct
from functools import lru_cache

from pyverifier import uapi

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

KIND_TYPEDEF = 8
KIND_FUNC = 12

_PREFIX_KIND = {
    uapi.ATTACH_TYPES["trace_raw_tp"]: ("btf_trace_", KIND_TYPEDEF),
    uapi.ATTACH_TYPES["lsm_mac"]: ("bpf_lsm_", KIND_FUNC),
    uapi.ATTACH_TYPES["lsm_cgroup"]: ("bpf_lsm_", KIND_FUNC),
    uapi.ATTACH_TYPES["trace_iter"]: ("bpf_iter_", KIND_FUNC),
}

# program types whose load takes attach_btf_id from the kernel's BTF
BTF_ATTACHED_PROG_TYPES = frozenset((uapi.PROG_TYPES["tracing"], uapi.PROG_TYPES["lsm"]))

# bytes that follow the 12-byte common header, per kind: (fixed, per vlen entry)
_TAIL = {
    1: (4, 0), 2: (0, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 7: (0, 0), 8: (0, 0),
    9: (0, 0), 10: (0, 0), 11: (0, 0), 12: (0, 0), 13: (0, 8), 14: (4, 0), 15: (0, 12), 16: (0, 0),
    17: (4, 0), 18: (0, 0), 19: (0, 12),
}


class AttachTargetError(Exception):
    """The attach target cannot be resolved: the load is not attempted."""


def btf_name_and_kind(attach_to: str, expected_attach_type: int | None) -> tuple[str, int]:
    """The BTF name and kind libbpf looks up for ``attach_to`` with this expected attach type."""
    prefix, kind = _PREFIX_KIND.get(expected_attach_type or 0, ("", KIND_FUNC))
    return prefix + attach_to, kind


_INDEXED_KINDS = frozenset((KIND_TYPEDEF, KIND_FUNC))


def index_btf(data: bytes, kinds: frozenset[int] = _INDEXED_KINDS) -> dict[tuple[str, int], int]:
    """(name, kind) -> lowest type id, for the named types of ``kinds`` in a raw (non-split) BTF blob."""
    if len(data) < 24:
        raise ValueError(f"BTF data is {len(data)} bytes, shorter than its header")
    magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, 0)
    if magic != 0xEB9F or version != 1:
        raise ValueError(f"not little-endian BTF version 1 (magic {magic:#06x}, version {version})")
    t0, s0 = hdr_len + type_off, hdr_len + str_off
    strings = data[s0 : s0 + str_len]
    out: dict[tuple[str, int], int] = {}
    hdr = struct.Struct("<III")
    pos, end, tid = t0, t0 + type_len, 1
    names: dict[int, str] = {}
    while pos < end:
        name_off, info, _ = hdr.unpack_from(data, pos)
        kind = (info >> 24) & 0x1F
        try:
            fixed, per = _TAIL[kind]
        except KeyError:
            raise ValueError(f"BTF type [{tid}] has unknown kind {kind}") from None
        pos += 12 + fixed + per * (info & 0xFFFF)
        if name_off and kind in kinds:
            name = names.get(name_off)
            if name is None:
                e = strings.find(b"\0", name_off)
                name = strings[name_off : e if e >= 0 else len(strings)].decode("utf-8", "replace")
                names[name_off] = name
            out.setdefault((name, kind), tid)
        tid += 1
    return out


@lru_cache(maxsize=4)
def _vmlinux_index(path: str, mtime_ns: int, size: int) -> dict[tuple[str, int], int]:
    with open(path, "rb") as f:
        return index_btf(f.read())


def vmlinux_index(path: str = VMLINUX_BTF) -> dict[tuple[str, int], int]:
    """The index of the kernel's BTF at ``path``, built once per process (call before forking workers)."""
    st = os.stat(path)
    return _vmlinux_index(path, st.st_mtime_ns, st.st_size)


def resolve_attach_btf_id(attach_to: str, expected_attach_type: int | None, path: str = VMLINUX_BTF) -> int:
    """The kernel BTF type id a program attaching to ``attach_to`` must pass as ``attach_btf_id``."""
    name, kind = btf_name_and_kind(attach_to, expected_attach_type)
    try:
        index = vmlinux_index(path)
    except OSError as e:
        raise AttachTargetError(
            f"cannot read the kernel's BTF at {path} ({e.strerror}) to resolve attach target {attach_to!r}"
        ) from None
    except ValueError as e:
        raise AttachTargetError(f"cannot parse the kernel's BTF at {path}: {e}") from None
    tid = index.get((name, kind))
    if tid is None:
        what = "typedef" if kind == KIND_TYPEDEF else "function"
        raise AttachTargetError(
            f"attach target {attach_to!r} not found: the running kernel's BTF has no {what} {name!r}"
        )
    return tid
