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

Only names and kinds are needed, so the index (``pyverifier.btf.index_names``)
scans the type headers and skips their bodies (about 0.1 s for a 5 MB vmlinux
BTF, a third of a full ``Btf.parse``), once per process.
"""
from __future__ import annotations

import os
from functools import lru_cache

from pyverifier import uapi
from pyverifier.btf import index_names

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


class AttachTargetError(Exception):
    """The attach target cannot be resolved: the load is not attempted."""


def btf_name_and_kind(attach_to: str, expected_attach_type: int | None) -> tuple[str, int]:
    """The BTF name and kind libbpf looks up for ``attach_to`` with this expected attach type."""
    prefix, kind = _PREFIX_KIND.get(expected_attach_type or 0, ("", KIND_FUNC))
    return prefix + attach_to, kind


_INDEXED_KINDS = frozenset((KIND_TYPEDEF, KIND_FUNC))


def index_btf(data: bytes, kinds: frozenset[int] = _INDEXED_KINDS) -> dict[tuple[str, int], int]:
    """(name, kind) -> lowest type id, for the named types of ``kinds`` in a raw (non-split) BTF blob.

    ``pyverifier.btf.index_names``: only the type headers are read (a full
    ``Btf.parse`` of vmlinux takes about three times as long). Raises ValueError
    (``BtfError``) on malformed data.
    """
    return index_names(data, kinds)


@lru_cache(maxsize=4)
def _vmlinux_index(path: str, mtime_ns: int, size: int) -> dict[tuple[str, int], int]:
    with open(path, "rb") as f:
        return index_btf(f.read())


def vmlinux_index(path: str = VMLINUX_BTF) -> dict[tuple[str, int], int]:
    """The index of the kernel's BTF at ``path``, built once per process (call before forking workers)."""
    st = os.stat(path)
    return _vmlinux_index(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _func_names(path: str, mtime_ns: int, size: int) -> dict[int, str]:
    return {tid: name for (name, kind), tid in _vmlinux_index(path, mtime_ns, size).items() if kind == KIND_FUNC}


def func_name(btf_id: int, path: str = VMLINUX_BTF) -> str | None:
    """The name of FUNC ``btf_id`` in the kernel BTF at ``path`` (a kfunc call's target), or None."""
    st = os.stat(path)
    return _func_names(path, st.st_mtime_ns, st.st_size).get(btf_id)


def func_id(name: str, path: str = VMLINUX_BTF) -> int | None:
    """The BTF id of FUNC ``name`` in the kernel BTF at ``path``, or None."""
    return vmlinux_index(path).get((name, KIND_FUNC))


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
