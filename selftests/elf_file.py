"""Reading a BPF ELF object: its header checks, sections and symbols (through pyelftools).

``read_elf(path)`` returns an ``ElfObject`` (every section with its bytes, the
symbol table) or raises ``ElfFileError`` saying why the file is not a usable
BPF object: unreadable, empty, not ELF, not ELF64 little-endian, not EM_BPF,
not relocatable, truncated (header table or a section body past the end of
the file), without a symbol table, or malformed in a way pyelftools trips on.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

EM_BPF = 247
ET_REL = 1
SHF_EXECINSTR = 0x4


class ElfFileError(Exception):
    """The whole object cannot be read."""


@dataclass
class Section:
    idx: int
    name: str
    sh_type: str  # SHT_PROGBITS, SHT_NOBITS, SHT_REL, ...
    flags: int
    size: int
    info: int  # sh_info: for SHT_REL, the section the relocations apply to
    data: bytes | None  # None for NOBITS

    @property
    def executable(self) -> bool:
        return self.sh_type == "SHT_PROGBITS" and bool(self.flags & SHF_EXECINSTR)


@dataclass
class Symbol:
    idx: int
    name: str
    type: str  # STT_*
    bind: str  # STB_*
    shndx: int | str  # section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON
    value: int
    size: int
    visibility: str = "STV_DEFAULT"


@dataclass
class ElfObject:
    sections: list[Section]
    symbols: list[Symbol]


def _check_header(data: bytes) -> None:
    if data[:4] != b"\x7fELF":
        raise ElfFileError("not an ELF file (no \\x7fELF magic)" if data else "empty file")
    if len(data) < 64:
        raise ElfFileError(f"truncated: {len(data)} bytes, shorter than the 64-byte ELF header")
    if data[4] != 2:
        raise ElfFileError("not a 64-bit ELF file: BPF objects are ELF64")
    if data[5] != 1:
        raise ElfFileError("big-endian ELF (bpfeb): the running kernel takes little-endian BPF")
    (etype, machine) = struct.unpack_from("<HH", data, 16)
    if machine != EM_BPF:
        raise ElfFileError(f"not a BPF object: ELF machine {machine}, expected EM_BPF ({EM_BPF})")
    if etype != ET_REL:
        raise ElfFileError(f"not a relocatable object (ELF type {etype}); BPF programs come in ET_REL objects")
    (shoff,) = struct.unpack_from("<Q", data, 40)
    shentsize, shnum = struct.unpack_from("<HH", data, 58)
    if shnum == 0 or shentsize != 64:
        raise ElfFileError(f"bad section header table ({shnum} entries of {shentsize} bytes)")
    if shoff + shnum * shentsize > len(data):
        raise ElfFileError(f"truncated: the section header table ends at byte {shoff + shnum * shentsize} but "
                           f"the file has {len(data)} bytes")


def read_elf(path: str | Path) -> ElfObject:
    """The sections and symbols of BPF object ``path``. Raises ElfFileError."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ElfFileError(f"cannot read: {e.strerror}") from None
    _check_header(data)
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError:
        raise ElfFileError("pyelftools is not installed") from None
    sections: list[Section] = []
    symbols: list[Symbol] = []
    try:
        elf = ELFFile(io.BytesIO(data))
        for i in range(elf.num_sections()):
            s = elf.get_section(i)
            h = s.header
            body = None
            if h["sh_type"] != "SHT_NOBITS":
                end = h["sh_offset"] + h["sh_size"]
                if end > len(data):
                    raise ElfFileError(f"truncated: section {i} ({s.name or '?'}) ends at byte {end} but the file "
                                       f"has {len(data)} bytes")
                body = data[h["sh_offset"] : end]
            sections.append(Section(i, s.name, h["sh_type"], h["sh_flags"], h["sh_size"], h["sh_info"], body))
        symtabs = [s for s in elf.iter_sections() if s.header["sh_type"] == "SHT_SYMTAB"]
        if not symtabs:
            raise ElfFileError("no symbol table (.symtab): libbpf cannot find programs or maps")
        for i, sym in enumerate(symtabs[0].iter_symbols()):
            symbols.append(Symbol(i, sym.name, sym["st_info"]["type"], sym["st_info"]["bind"], sym["st_shndx"],
                                  sym["st_value"], sym["st_size"], sym["st_other"]["visibility"]))
    except ElfFileError:
        raise
    except (ELFError, struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError, OverflowError, EOFError,
            TypeError, AttributeError) as e:
        # pyelftools' errors on malformed headers and string tables
        raise ElfFileError(f"malformed ELF: {type(e).__name__}: {e}") from None
    return ElfObject(sections, symbols)
