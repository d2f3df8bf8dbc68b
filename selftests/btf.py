"""BTF for the importers: the parser of ``pyverifier.btf`` plus reading the running kernel's BTF.

Everything of ``pyverifier.btf`` (``Btf``, ``BtfType``, ``BtfError``, the kind
constants, ``encode_subset``, ``essential_name``, ...) is re-exported here, so
``from selftests.btf import Btf`` keeps working; ``kernel_btf()`` reads and
caches the running kernel's BTF (``/sys/kernel/btf/vmlinux``), which
pyverifier, doing no I/O, cannot.
"""
from __future__ import annotations

import os
from functools import lru_cache

from pyverifier.btf import *  # noqa: F401,F403  (the parser lives in pyverifier)
from pyverifier.btf import Btf

KERNEL_BTF = "/sys/kernel/btf/vmlinux"


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> Btf:
    with open(path, "rb") as f:
        return Btf.parse(f.read())


def kernel_btf(path: str = KERNEL_BTF) -> Btf:
    """The BTF at ``path`` (default: the running kernel's), parsed once per process.

    Raises OSError when it cannot be read and BtfError when it is malformed.
    """
    st = os.stat(path)
    return _cached(path, st.st_mtime_ns, st.st_size)
