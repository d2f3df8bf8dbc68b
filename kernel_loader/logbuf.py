"""The verifier log buffer handed to BPF_PROG_LOAD.

A level-2 log of a program near the instruction limit is around 100 MB. A
buffer too small for it makes the kernel verify the program twice (once to
learn ``log_true_size``, once more to fill the regrown buffer), and that second
verification took seconds. So the first buffer is as large as the kernel
accepts (``UINT_MAX >> 2`` bytes), as an anonymous mapping without reserved
memory: only the pages the kernel writes are ever allocated.
"""
from __future__ import annotations

import ctypes
import mmap

# the largest log_size the kernel accepts (kernel/bpf/log.c refuses len_total > UINT_MAX >> 2)
LARGEST = 0xFFFFFFFF >> 2
_FLAGS = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0)


class LogBuffer:
    """``size`` zeroed bytes for the kernel to write its log into; ``text()`` reads it back."""

    def __init__(self, size: int):
        self.size = size
        self._map: mmap.mmap | None = None
        if size > 1 << 20:
            self._map = mmap.mmap(-1, size, flags=_FLAGS)
            self._buf = (ctypes.c_char * size).from_buffer(self._map)
        else:
            self._buf = ctypes.create_string_buffer(size)
        self.addr = ctypes.addressof(self._buf)

    def text(self) -> str:
        """The log up to its terminating zero byte."""
        if self._map is None:
            return self._buf.value.decode("utf-8", "replace")
        end = self._map.find(b"\0")
        return self._map[: end if end >= 0 else self.size].decode("utf-8", "replace")

    def close(self) -> None:
        if self._map is not None:
            del self._buf  # the ctypes view holds an export of the mapping
            self._map.close()
            self._map = None


def _lazy_mappings_work() -> bool:
    try:
        LogBuffer(LARGEST).close()
    except (OSError, ValueError, OverflowError, BufferError, MemoryError):
        return False  # e.g. vm.overcommit_memory=2 refuses the mapping
    return True


# the first buffer BPF_PROG_LOAD gets: the largest when it costs nothing, else 1 MiB (regrown on ENOSPC)
INITIAL_SIZE = LARGEST if _lazy_mappings_work() else 1 << 20
