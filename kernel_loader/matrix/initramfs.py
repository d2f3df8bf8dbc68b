"""A minimal initramfs (cpio "newc", uncompressed): the loader as /init, the batch, /sys, /dev/console."""
from __future__ import annotations

import stat

_TRAILER = "TRAILER!!!"


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _entry(ino: int, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> bytes:
    nb = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1 if not stat.S_ISDIR(mode) else 2, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(nb), 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    return head + nb + _pad4(len(head) + len(nb)) + data + _pad4(len(data))


def build(init: bytes, files: dict[str, bytes]) -> bytes:
    """The archive: ``init`` as /init (0755), ``files`` (path -> content, 0644), /sys, /dev/console."""
    parts = [
        _entry(1, "dev", stat.S_IFDIR | 0o755),
        _entry(2, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        _entry(3, "sys", stat.S_IFDIR | 0o755),
        _entry(4, "init", stat.S_IFREG | 0o755, init),
    ]
    for i, (path, data) in enumerate(sorted(files.items()), start=5):
        parts.append(_entry(i, path.lstrip("/"), stat.S_IFREG | 0o644, data))
    parts.append(_entry(0, _TRAILER, 0))
    return b"".join(parts)


def read(archive: bytes) -> dict[str, tuple[int, bytes]]:
    """name -> (mode, data) of a newc archive (for tests and debugging)."""
    out: dict[str, tuple[int, bytes]] = {}
    pos = 0
    while True:
        if archive[pos:pos + 6] != b"070701":
            raise ValueError(f"no newc header at byte {pos}")
        fields = [int(archive[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_start = pos + 110
        name = archive[name_start:name_start + namesize - 1].decode()
        data_start = name_start + namesize + (-(110 + namesize) % 4)
        if name == _TRAILER:
            return out
        out[name] = (mode, archive[data_start:data_start + size])
        pos = data_start + size + (-size % 4)
