"""What is unpacked from a kernel image once: the PVH-bootable ELF ``vmlinux`` and its BTF.

A bzImage decompresses itself first, which under TCG costs seconds (Debian's 6.1 is XZ-compressed).
Debian's kernels are built with CONFIG_PVH, so their ELF ``vmlinux`` can be booted directly
(``-kernel vmlinux``): it is unpacked once from the bzImage's payload and cached beside it. The
ELF's ``.BTF`` section is what the booted kernel serves as /sys/kernel/btf/vmlinux, so attach
targets are resolved against it on the host (``vmlinux.btf``) with kernel_loader.vmlinux's rules.
"""
from __future__ import annotations

import lzma
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

_XEN_ELFNOTE_PHYS32_ENTRY = 18


def bzimage_payload(bz: bytes) -> bytes:
    """The compressed kernel inside a bzImage (boot protocol 2.08+: payload_offset/payload_length)."""
    if bz[0x202:0x206] != b"HdrS":
        raise ValueError("not a bzImage (no HdrS header)")
    (version,) = struct.unpack_from("<H", bz, 0x206)
    if version < 0x208:
        raise ValueError(f"boot protocol {version:#x} has no payload fields")
    setup_sects = bz[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bz, 0x248)
    start = (setup_sects + 1) * 512 + offset
    return bz[start:start + length]


def decompress(payload: bytes) -> bytes:
    """gzip, xz or zstd (the kernel appends the 4-byte uncompressed size, which is dropped)."""
    if payload[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    if payload[:2] == b"\x1f\x8b":
        return zlib.decompressobj(wbits=31).decompress(payload)  # stops at the end of the gzip member
    if payload[:4] == b"\x28\xb5\x2f\xfd":
        if not shutil.which("zstd"):
            raise ValueError("the kernel is zstd-compressed and the zstd tool is not installed")
        p = subprocess.run(["zstd", "-dcq"], input=payload[:-4], capture_output=True)
        if p.returncode:
            raise ValueError(f"zstd failed: {p.stderr.decode(errors='replace').strip()}")
        return p.stdout
    raise ValueError(f"unknown kernel compression (magic {payload[:6].hex()})")


def has_pvh_entry(elf: bytes) -> bool:
    """Whether an ELF64 image carries the Xen PHYS32_ENTRY note QEMU's PVH boot needs."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _flags, p_offset, _va, _pa, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == _XEN_ELFNOTE_PHYS32_ENTRY:
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def elf_section(elf: bytes, wanted: str) -> bytes | None:
    """The contents of the ELF64 section named ``wanted``, or None."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return None
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    if not shoff or shstrndx >= shnum:
        return None

    def header(i: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        return name, offset, size

    _, str_off, str_size = header(shstrndx)
    names = elf[str_off:str_off + str_size]
    for i in range(shnum):
        name_off, offset, size = header(i)
        end = names.find(b"\0", name_off)
        if names[name_off:end].decode(errors="replace") == wanted:
            return elf[offset:offset + size]
    return None


def _write(dest: Path, data: bytes) -> None:
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(dest)


def unpack_image(vmlinuz: Path, vmlinux: Path, btf: Path) -> tuple[bool, bool]:
    """Write the PVH ELF of ``vmlinuz`` to ``vmlinux`` and its BTF to ``btf``; say which were written."""
    try:
        elf = decompress(bzimage_payload(vmlinuz.read_bytes()))
    except (ValueError, lzma.LZMAError, zlib.error, OSError, EOFError):
        return False, False
    pvh = has_pvh_entry(elf)
    if pvh:
        _write(vmlinux, elf)
    section = elf_section(elf, ".BTF")
    if section:
        _write(btf, section)
    return pvh, bool(section)


def btf_from_vmlinux(vmlinux: Path, btf: Path) -> bool:
    """Write the ``.BTF`` section of an ELF ``vmlinux`` to ``btf``; False when it has none."""
    try:
        section = elf_section(vmlinux.read_bytes(), ".BTF")
    except OSError:
        return False
    if section:
        _write(btf, section)
    return bool(section)
