"""The running kernel's BTF, when whoever calls pyverifier provides it (pyverifier does no I/O).

kfunc calls name a FUNC of the kernel's BTF by id: its name (for the log and for the
kfunc's rules) and its prototype (how many argument registers the call reads) come
from there. ``set_provider(fn)`` installs a function returning a parsed
``pyverifier.btf.Btf`` (compare/verifiers gives ``selftests.btf.kernel_btf``); it is
called once, the first time a program needs it. Without a provider, kfunc calls are
"not modelled".
"""
from __future__ import annotations

from typing import Callable

from .btf import FUNC, FUNC_PROTO, Btf, BtfError

_provider: Callable[[], Btf] | None = None
_btf: Btf | None = None
_failed: str | None = None


def set_provider(fn: Callable[[], Btf] | None) -> None:
    global _provider, _btf, _failed
    _provider, _btf, _failed = fn, None, None


def get() -> Btf | None:
    """The kernel's BTF, or None when no provider was set or it failed."""
    global _btf, _failed
    if _btf is None and _provider is not None and _failed is None:
        try:
            _btf = _provider()
        except (OSError, BtfError) as e:
            _failed = str(e)
    return _btf


def func(btf_id: int):
    """(name, number of parameters) of kernel FUNC ``btf_id``, or None."""
    btf = get()
    if btf is None:
        return None
    try:
        t = btf.type(btf_id)
        if t.kind != FUNC:
            return None
        proto = btf.type(t.size_type)
    except BtfError:
        return None
    if proto.kind != FUNC_PROTO:
        return None
    return t.name, len(proto.members)
