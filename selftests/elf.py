"""Importing the programs of a BPF ELF object (clang ``-target bpf``) the way libbpf loads them.

``import_elf(path)`` returns ``(programs, problems)``. Every function of an
executable section other than ``.text`` is a program; its type, expected attach
type, flags and BTF attach target come from the section name as libbpf's SEC()
reads it (``elf_secdef``). Functions in ``.text`` are subprograms. For each
program the importer does what libbpf does before ``BPF_PROG_LOAD``, so both
verifiers see the instructions the kernel would get from libbpf:

* CO-RE relocations (``.BTF.ext``) are resolved against the running kernel's BTF
  and patched into the instructions (``core_relo``);
* the subprograms it calls (``R_BPF_64_32`` to ``.text``), transitively, are
  appended after it in first-call order and every call's ``imm`` is made
  relative (``src = BPF_PSEUDO_CALL``);
* map references (``R_BPF_64_64`` to a map symbol) become ``ld_imm64`` with
  ``src = BPF_PSEUDO_MAP_FD`` and ``imm`` the map's index in ``Program.maps``;
  global data references (to ``.data``/``.rodata``/``.bss``/``.kconfig``)
  ``src = BPF_PSEUDO_MAP_VALUE`` with the index in the first slot's ``imm`` and
  the byte offset (addend plus symbol value) in the second slot's ``imm``;
* externs: kfunc calls get the kernel BTF id (``src = BPF_PSEUDO_KFUNC_CALL``),
  typed ``__ksym`` variables ``BPF_PSEUDO_BTF_ID``, untyped ones their address,
  ``__kconfig`` values a map value reference (``elf_externs``).

``Program.maps`` holds only the maps the program uses, in the object's map order
(``elf_maps``: legacy ``maps``, then ``.maps``, then global data, then ``.kconfig``).

A map whose kernel object or value needs BTF (local storage, ``bpf_spin_lock``,
``bpf_timer``, kptrs) carries the BTF of its key and value (``MapSpec.btf``).
Program BTF: a program with a callback (``ld_imm64`` of a function), or with a
tail call or LD_ABS/LD_IND inside a subprogram, cannot load without BTF
func_info. Like libbpf, every program of an object with .BTF gets its program
BTF: ``Program.btf`` (the FUNC types of its functions re-encoded from the
object's .BTF, plus the source lines), ``Program.func_info`` and
``Program.line_info`` (the kernel then prints the source lines in its log and
verifies global functions as global). ``prog_btf=False`` keeps it only where a
program cannot load without it; a global function then gets a note
(``fatal=False``): the kernel verifies it as a static subprogram
(``strict_btf=True`` refuses such programs). Local type ids are a fatal problem.
Files that are not BPF objects, truncated files, unknown section names,
unsupported relocations, unresolvable externs and CO-RE relocations are problems
too, one per program where the program is known, and so are struct_ops and
freplace programs. ``import_elf`` never raises for a bad file.

Command line::

    python -m selftests.elf OBJ... --out FILE.jsonl
"""
from __future__ import annotations

import argparse
import bisect
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pyverifier import opcodes as op
from pyverifier import uapi
from pyverifier.insn import INSN_SIZE, Insn, decode, encode
from pyverifier.program import Program

from .asmfile import size_class
from . import btf as B
from .btf import FUNC, KERNEL_BTF, Btf, BtfError, encode_subset, kernel_btf
from .btf_ext import CORE_KIND_NAMES, TYPE_ID_LOCAL, BtfExt, parse_btf_ext
from .core_relo import CoreError, CoreResolver, patch_insn
from .elf_externs import Extern, collect_externs, resolve_externs
from .elf_file import SHF_EXECINSTR, ElfFileError, Section, Symbol, read_elf
from .elf_maps import ObjMap, btf_maps, data_map, data_section_kind, legacy_maps
from .elf_secdef import NEEDS_TARGET_PROG, STRUCT_OPS, find_sec_def

R_BPF_64_64 = 1
R_BPF_64_32 = 10

LD_IMM64 = 0x18
CALL = 0x85
PSEUDO_MAP_FD = 1
PSEUDO_MAP_VALUE = 2
PSEUDO_BTF_ID = 3
PSEUDO_FUNC = 4
PSEUDO_CALL = 1
PSEUDO_KFUNC_CALL = 2
BPF_FUNC_TAIL_CALL = 12

MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class ElfProblem:
    """Why a program (or the whole object, ``program=None``) was not imported, or a note about one.

    ``fatal=False`` marks a note: the program was imported, but something about it
    differs from what libbpf would load (e.g. no BTF for a global function).
    """

    file: str
    program: str | None
    reason: str
    section: str | None = None
    fatal: bool = True

    def __str__(self) -> str:
        where = self.file
        if self.program:
            where += f": {self.program}"
        if self.section:
            where += f" (SEC {self.section!r})"
        return f"{where}: {'problem' if self.fatal else 'note'}: {self.reason}"


@dataclass(frozen=True)
class CoreApplied:
    """One CO-RE relocation of an object and what became of it (``core_relocations``)."""

    section: str
    insn: int  # instruction index in the section
    kind: str  # libbpf's name of the relocation kind: byte_off, field_exists, type_size, ...
    local: str  # the local spec: type, access path, offset
    target: str | None  # the matched target spec, None when nothing matched
    orig_val: int
    new_val: int
    poisoned: bool
    error: str | None  # why it could not be applied (libbpf would refuse the object)


@dataclass(eq=False)
class _Func:
    name: str
    sec: Section
    start: int  # instruction index in the section
    count: int
    is_global: bool
    problems: list[str] = field(default_factory=list)  # fatal for every program that includes it
    notes: list[str] = field(default_factory=list)
    core_count: int = 0

    @property
    def end(self) -> int:
        return self.start + self.count


@dataclass
class _Rel:
    kind: str  # "map", "data", "call", "func_addr", "extern_ld", "extern_call"
    map_idx: int = -1
    sym_off: int = 0
    ext: Extern | None = None


class _Importer:
    def __init__(self, path: Path, source: str, kernel_btf_path: str, kconfig_text: str | None,
                 strict_btf: bool = False, prog_btf: bool = True):
        self.path = path
        self.strict_btf = strict_btf
        self.prog_btf = prog_btf  # attach the program's BTF func_info even when nothing requires it
        self.file = str(path)
        self.source = source
        self.kernel_btf_path = kernel_btf_path
        self.kconfig_text = kconfig_text
        self.problems: list[ElfProblem] = []
        self.sections: list[Section] = []
        self.symbols: list[Symbol] = []
        self.funcs: list[_Func] = []
        self.maps: list[ObjMap] = []
        self.externs: list[Extern] = []
        self.btf: Btf | None = None
        self.btf_ext: BtfExt | None = None
        self.sec_insns: dict[int, list[Insn]] = {}
        self.relocs: dict[int, dict[int, _Rel]] = {}
        self.license = ""
        self.btf_ext_error: str | None = None
        self._by_sec: dict[int, tuple[list[int], list[_Func]]] = {}
        self.core_log: list[CoreApplied] = []
        self._kernel: Btf | None = None
        self._kernel_err: str | None = None
        self._kernel_loaded = False

    # --- helpers ----------------------------------------------------------
    def obj_problem(self, reason: str, fatal: bool = True) -> None:
        self.problems.append(ElfProblem(self.file, None, reason, None, fatal))

    def kernel(self) -> tuple[Btf | None, str | None]:
        if not self._kernel_loaded:
            self._kernel_loaded = True
            try:
                self._kernel = kernel_btf(self.kernel_btf_path)
            except OSError as e:
                self._kernel_err = f"cannot read kernel BTF {self.kernel_btf_path}: {e.strerror}"
            except BtfError as e:
                self._kernel_err = f"kernel BTF {self.kernel_btf_path} is malformed: {e}"
        return self._kernel, self._kernel_err

    def func_at(self, sec_idx: int, insn_idx: int) -> _Func | None:
        """The function of section ``sec_idx`` holding instruction ``insn_idx``."""
        starts, funcs = self._by_sec.get(sec_idx, ((), ()))
        i = bisect.bisect_right(starts, insn_idx) - 1
        if i >= 0 and funcs[i].start <= insn_idx < funcs[i].end:
            return funcs[i]
        return None

    # --- reading the ELF file ---------------------------------------------
    def read(self) -> None:
        obj = read_elf(self.path)
        self.sections, self.symbols = obj.sections, obj.symbols

    def sec_by_name(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    # --- BTF ------------------------------------------------------------------
    def read_btf(self) -> None:
        s = self.sec_by_name(".BTF")
        e = self.sec_by_name(".BTF.ext")
        if s is None or s.data is None:
            if e is not None:
                self.btf_ext_error = ".BTF.ext without .BTF: its CO-RE relocations cannot be read"
            return
        try:
            self.btf = Btf.parse(s.data)
        except BtfError as err:
            self.obj_problem(f".BTF is unreadable ({err}): BTF-defined maps, CO-RE and externs cannot be used",
                             fatal=False)
            if e is not None:
                self.btf_ext_error = f".BTF is unreadable ({err}): CO-RE relocations in .BTF.ext cannot be applied"
            return
        self.fixup_datasecs()
        if e is not None and e.data is not None:
            try:
                self.btf_ext = parse_btf_ext(e.data, self.btf)
            except BtfError as err:
                self.btf_ext_error = f".BTF.ext is unreadable ({err}): CO-RE relocations cannot be applied"

    def fixup_datasecs(self) -> None:
        """Fill in what clang leaves out of the object's DATASECs, as libbpf does before using them.

        clang leaves a DATASEC's size and its variables' offsets zero: they come from
        the ELF section size and the variables' symbols. A global variable with
        hidden visibility counts as static.
        """
        btf = self.btf
        assert btf is not None
        syms = {s.name: s for s in self.symbols if s.bind in ("STB_GLOBAL", "STB_WEAK") and s.type == "STT_OBJECT"}
        for t in btf.types:
            if t.kind != B.DATASEC or t.name in (".kconfig", ".ksyms"):
                continue
            fix_offsets = False
            if t.size_type == 0:
                sec = self.sec_by_name(t.name)
                if sec is None or not sec.size:
                    continue
                t.size_type = sec.size
                fix_offsets = True
            members = []
            for vid, off, size in t.members:
                var = btf.type(vid)
                if var.kind == B.VAR and var.extra not in (B.VAR_STATIC, B.VAR_GLOBAL_EXTERN):
                    sym = syms.get(var.name)
                    if sym is not None:
                        if fix_offsets:
                            off = sym.value
                        if sym.visibility in ("STV_HIDDEN", "STV_INTERNAL"):
                            var.extra = B.VAR_STATIC
                members.append((vid, off, size))
            t.members = tuple(sorted(members, key=lambda m: m[1]))

    # --- programs -------------------------------------------------------------
    def collect_funcs(self) -> None:
        for s in self.sections:
            if not s.executable or s.size == 0:
                continue
            if s.size % INSN_SIZE:
                self.problems.append(ElfProblem(self.file, None, f"section size {s.size} is not a multiple of "
                                                f"{INSN_SIZE}: truncated instruction", s.name))
                continue
            self.sec_insns[s.idx] = decode(s.data or b"")
            n = s.size // INSN_SIZE
            found = False
            for sym in self.symbols:
                if sym.shndx != s.idx or sym.type != "STT_FUNC":
                    continue
                found = True
                if sym.value % INSN_SIZE or sym.size % INSN_SIZE or sym.value + sym.size > s.size or sym.size == 0:
                    self.problems.append(ElfProblem(self.file, sym.name, f"function at byte {sym.value}, size "
                                                    f"{sym.size}, does not fit section of {s.size} bytes", s.name))
                    continue
                f = _Func(sym.name, s, sym.value // INSN_SIZE, sym.size // INSN_SIZE, sym.bind != "STB_LOCAL")
                if s.name != ".text" and sym.bind == "STB_LOCAL":
                    f.problems.append(f"program '{sym.name}' is static: libbpf does not load static programs")
                self.funcs.append(f)
            if not found:
                self.problems.append(ElfProblem(self.file, None, f"executable section with {n} instructions has no "
                                                "function symbol: libbpf cannot name a program in it", s.name))
        self.funcs.sort(key=lambda f: (f.sec.idx, f.start))
        by_sec: dict[int, list[_Func]] = {}
        for f in self.funcs:
            by_sec.setdefault(f.sec.idx, []).append(f)
        self._by_sec = {k: ([f.start for f in v], v) for k, v in by_sec.items()}

    # --- maps -------------------------------------------------------------------
    def collect_maps(self) -> None:
        obj_name = self.path.name.split(".", 1)[0]
        legacy = self.sec_by_name("maps")
        if legacy is not None and legacy.data is not None and legacy.size:
            syms = [(s.name, s.value) for s in self.symbols
                    if s.shndx == legacy.idx and s.type != "STT_SECTION" and s.name]
            maps, err = legacy_maps(legacy.idx, legacy.data, syms)
            if err:
                self.obj_problem(err)
            self.maps.extend(maps)
        btf_sec = self.sec_by_name(".maps")
        if btf_sec is not None and btf_sec.size:
            maps, err = btf_maps(self.btf, btf_sec.idx, btf_sec.size)
            if err:
                self.obj_problem(err)
            self.maps.extend(maps)
        for s in self.sections:
            kind = data_section_kind(s.name, s.sh_type, bool(s.flags & SHF_EXECINSTR))
            if kind is None or s.size == 0:
                continue
            self.maps.append(data_map(obj_name, s.name, kind, s.idx, s.size, s.data, self.btf))
        for m in self.maps:
            for n in m.notes:
                self.obj_problem(n, fatal=False)

    def collect_externs(self) -> None:
        undef = [(s.idx, s.name, s.bind == "STB_WEAK") for s in self.symbols
                 if s.shndx == "SHN_UNDEF" and s.bind in ("STB_GLOBAL", "STB_WEAK") and s.type == "STT_NOTYPE"
                 and s.name]
        self.externs, errors = collect_externs(self.btf, undef)
        for e in errors:
            self.obj_problem(e)
        if not self.externs:
            return
        kernel, kerr = (None, None)
        if any(e.kind == "ksym" and (e.type_id or e.is_func) for e in self.externs):
            kernel, kerr = self.kernel()
        kcfg = resolve_externs(self.externs, self.btf, kernel, kerr, self.kconfig_text)
        if any(e.kind == "kcfg" for e in self.externs):
            from pyverifier.program import MapSpec

            from .elf_maps import BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, internal_map_name

            name = internal_map_name(self.path.name.split(".", 1)[0], ".kconfig")
            spec = MapSpec(name=name, type=uapi.MAP_TYPES["array"], key_size=4, value_size=len(kcfg), max_entries=1,
                           flags=BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, init=kcfg, frozen=True)
            self.maps.append(ObjMap(name=name, kind="kconfig", sec_idx=-1, sec_offset=0, spec=spec))
        for e in self.externs:
            for n in e.notes:
                self.obj_problem(n, fatal=False)
            if e.error:
                self.obj_problem(f"libbpf refuses the whole object ({e.error}); here only the programs using "
                                 f"'{e.name}' are left out", fatal=False)

    # --- CO-RE --------------------------------------------------------------------
    def apply_core(self) -> None:
        ext = self.btf_ext
        if ext is None or not ext.core_relos or self.btf is None:
            return
        kernel, kerr = self.kernel()
        resolver = CoreResolver(self.btf, [kernel]) if kernel is not None else None
        for sec_name, relos in ext.core_relos.items():
            sec = self.sec_by_name(sec_name)
            if sec is None or sec.idx not in self.sec_insns:
                self.obj_problem(f".BTF.ext has CO-RE relocations for section {sec_name!r}, which holds no code")
                continue
            insns = self.sec_insns[sec.idx]
            for n, relo in enumerate(relos):
                idx = relo.insn_off // INSN_SIZE
                func = self.func_at(sec.idx, idx)
                if func is None or relo.insn_off % INSN_SIZE:
                    self.problems.append(ElfProblem(self.file, None, f"CO-RE relocation #{n} at byte {relo.insn_off} "
                                                    "is not on an instruction of a function", sec_name))
                    continue
                kind = CORE_KIND_NAMES.get(relo.kind, str(relo.kind))
                if resolver is None:
                    func.problems.append(f"CO-RE relocation #{n} ({kind}) cannot be resolved: {kerr}")
                    self.core_log.append(CoreApplied(sec_name, idx, kind, "?", None, 0, 0, False, kerr))
                    continue
                local = resolver.local_spec(relo)
                if relo.kind == TYPE_ID_LOCAL:
                    why = "names a type of the object's own BTF, which the Program does not carry"
                    func.problems.append(f"CO-RE relocation #{n} (local_type_id) at insn #{idx - func.start} {why}")
                    self.core_log.append(CoreApplied(sec_name, idx, kind, local, None, 0, 0, False, why))
                    continue
                try:
                    res = resolver.resolve(relo)
                    what = patch_insn(insns, idx, res)
                except (CoreError, BtfError) as e:
                    func.problems.append(f"CO-RE relocation #{n} ({kind}) {local} at insn #{idx - func.start}: {e}")
                    self.core_log.append(CoreApplied(sec_name, idx, kind, local, None, 0, 0, False, str(e)))
                    continue
                func.core_count += 1
                self.core_log.append(CoreApplied(sec_name, idx, kind, local, res.target, res.orig_val, res.new_val,
                                                 what.startswith("poisoned"), None))
                if what.startswith("poisoned"):
                    func.notes.append(f"CO-RE relocation #{n} ({kind}) {local}: {what} "
                                      "(call 0xbad2310, as libbpf does: the program loads only if it is dead code)")

    # --- ELF relocations -------------------------------------------------------------
    def collect_relocs(self) -> None:
        text = self.sec_by_name(".text")
        text_idx = text.idx if text is not None else -1
        for rs in self.sections:
            if rs.sh_type != "SHT_REL" or rs.data is None:
                continue
            if not (0 <= rs.info < len(self.sections)):
                continue
            target = self.sections[rs.info]
            if not target.executable or target.idx not in self.sec_insns:
                continue
            insns = self.sec_insns[target.idx]
            per = self.relocs.setdefault(target.idx, {})
            if rs.size % 16:
                self.problems.append(ElfProblem(self.file, None, f"relocation section {rs.name} is truncated",
                                                target.name))
            for k in range(rs.size // 16):
                r_offset, r_info = struct.unpack_from("<QQ", rs.data, k * 16)
                sym_idx, rtype = r_info >> 32, r_info & 0xFFFFFFFF
                idx = r_offset // INSN_SIZE
                func = self.func_at(target.idx, idx)
                if r_offset % INSN_SIZE or r_offset >= target.size:
                    self.problems.append(ElfProblem(self.file, None, f"relocation #{k} at byte {r_offset} is not on "
                                                    "an instruction", target.name))
                    continue
                if func is None:
                    continue  # libbpf skips relocations outside any function (overridden weak functions)
                if not 0 <= sym_idx < len(self.symbols):
                    func.problems.append(f"relocation #{k} names symbol #{sym_idx}, which does not exist")
                    continue
                sym = self.symbols[sym_idx]
                err = self._record(per, func, insns, idx, sym, rtype, text_idx)
                if err:
                    func.problems.append(f"relocation #{k} against '{sym.name or self._sec_name(sym.shndx)}' "
                                         f"at insn #{idx - func.start}: {err}")

    def _sec_name(self, shndx) -> str:
        if isinstance(shndx, int) and 0 <= shndx < len(self.sections):
            return self.sections[shndx].name
        return str(shndx)

    def _record(self, per: dict[int, _Rel], func: _Func, insns: list[Insn], idx: int, sym: Symbol, rtype: int,
                text_idx: int) -> str | None:
        ins = insns[idx]
        is_call = ins.code == CALL
        is_ld64 = ins.code == LD_IMM64
        if not is_call and not is_ld64:
            return f"relocation on instruction code {ins.code:#04x}, neither a call nor ld_imm64"
        if rtype not in (R_BPF_64_64, R_BPF_64_32):
            return f"unsupported relocation type {rtype}"
        if is_ld64 and idx + 1 >= func.end:
            return "ld_imm64 without its second slot"
        if sym.shndx == "SHN_UNDEF" and sym.bind in ("STB_GLOBAL", "STB_WEAK") and sym.type == "STT_NOTYPE":
            ext = next((e for e in self.externs if e.sym_idx == sym.idx), None)
            if ext is None:
                return f"extern '{sym.name}' has no BTF description (.kconfig/.ksyms)"
            per[idx] = _Rel("extern_call" if is_call else "extern_ld", ext=ext)
            return None
        if is_call:
            if ins.src != PSEUDO_CALL:
                return "incorrect bpf_call opcode (call relocation on a helper call)"
            if sym.shndx != text_idx or text_idx < 0:
                return f"call relocation against a symbol in section '{self._sec_name(sym.shndx)}', not .text"
            if sym.value % INSN_SIZE:
                return f"bad call relocation offset {sym.value}"
            per[idx] = _Rel("call", sym_off=sym.value)
            return None
        if not isinstance(sym.shndx, int) or sym.shndx == 0:
            return f"relocation against '{sym.name}' in special section {sym.shndx}: uninitialized global variable?"
        if sym.shndx == text_idx and ((sym.bind == "STB_LOCAL" and sym.type == "STT_SECTION")
                                      or (sym.bind == "STB_GLOBAL" and sym.type == "STT_FUNC")):
            if sym.value % INSN_SIZE or ins.imm % INSN_SIZE:
                return f"bad subprogram address relocation at offset {sym.value}+{ins.imm}"
            per[idx] = _Rel("func_addr", sym_off=sym.value)
            insns[idx] = ins._replace(src=PSEUDO_FUNC)  # libbpf marks it so linking sees a function address
            return None
        sec = self.sections[sym.shndx] if sym.shndx < len(self.sections) else None
        if sec is None:
            return f"symbol section {sym.shndx} does not exist"
        if sec.name in ("maps", ".maps"):
            for i, m in enumerate(self.maps):
                if m.sec_idx == sym.shndx and m.sec_offset == sym.value and m.kind in ("btf", "legacy"):
                    per[idx] = _Rel("map", map_idx=i)
                    return None
            return f"map relocation finds no map at offset {sym.value} of section '{sec.name}'"
        kind = data_section_kind(sec.name, sec.sh_type, sec.executable)
        if kind is None:
            return f"relocation against section '{sec.name}', which is neither maps nor global data"
        for i, m in enumerate(self.maps):
            if m.sec_idx == sym.shndx and m.kind == kind:
                per[idx] = _Rel("data", map_idx=i, sym_off=sym.value)
                return None
        return f"data relocation finds no map for section '{sec.name}'"

    # --- linking one program ----------------------------------------------------------
    def link(self, main: _Func) -> tuple[list[Insn], list[_Func], list[tuple[int, int]], list[str]]:
        """(instructions, functions in order, (position, object map index) pairs, errors)."""
        text = self.sec_by_name(".text")
        insns: list[Insn] = []
        bases: dict[int, int] = {}
        order: list[_Func] = []
        errors: list[str] = []

        def append(f: _Func) -> None:
            bases[id(f)] = len(insns)
            insns.extend(self.sec_insns[f.sec.idx][f.start : f.end])
            order.append(f)

        def reloc_code(f: _Func) -> None:
            base = bases[id(f)]
            rels = self.relocs.get(f.sec.idx, {})
            for i in range(f.count):
                pos = base + i
                ins = insns[pos]
                is_call = ins.code == CALL and ins.src == PSEUDO_CALL and ins.dst == 0 and ins.off == 0
                is_pfunc = ins.code == LD_IMM64 and ins.src == PSEUDO_FUNC
                if not is_call and not is_pfunc:
                    continue
                rel = rels.get(f.start + i)
                if rel is not None and rel.kind == "extern_call":
                    continue
                if rel is not None and rel.kind not in ("call", "func_addr"):
                    errors.append(f"{f.name}: insn #{i}: unexpected relocation kind {rel.kind} on a bpf-to-bpf call")
                    continue
                if rel is not None:
                    sub_idx = rel.sym_off // INSN_SIZE + ins.imm + 1 if rel.kind == "call" else \
                        (rel.sym_off + ins.imm) // INSN_SIZE
                elif is_pfunc:
                    errors.append(f"{f.name}: insn #{i}: function address without a relocation")
                    continue
                else:
                    if text is None or f.sec.idx != text.idx:
                        errors.append(f"{f.name}: insn #{i}: bpf-to-bpf call without a relocation outside .text")
                        continue
                    sub_idx = f.start + i + ins.imm + 1
                sub = self.func_at(text.idx, sub_idx) if text is not None else None
                if sub is None:
                    errors.append(f"{f.name}: insn #{i}: call to .text instruction #{sub_idx}, where no subprogram is")
                    continue
                if id(sub) not in bases:
                    append(sub)
                    reloc_code(sub)
                insns[pos] = insns[pos]._replace(imm=bases[id(sub)] - pos - 1)

        append(main)
        reloc_code(main)
        map_refs: list[tuple[int, int]] = []
        for f in order:
            base = bases[id(f)]
            for sec_i, rel in self.relocs.get(f.sec.idx, {}).items():
                if not f.start <= sec_i < f.end:
                    continue
                pos = base + sec_i - f.start
                ins = insns[pos]
                if rel.kind == "map":
                    insns[pos] = ins._replace(src=PSEUDO_MAP_FD, imm=0)
                    map_refs.append((pos, rel.map_idx))
                elif rel.kind == "data":
                    insns[pos + 1] = insns[pos + 1]._replace(imm=_s32(ins.imm + rel.sym_off))
                    insns[pos] = ins._replace(src=PSEUDO_MAP_VALUE, imm=0)
                    map_refs.append((pos, rel.map_idx))
                elif rel.kind == "extern_ld":
                    ext = rel.ext
                    if ext.kind == "kcfg":  # type: ignore[union-attr]
                        kidx = next(i for i, m in enumerate(self.maps) if m.kind == "kconfig")
                        insns[pos + 1] = insns[pos + 1]._replace(imm=ext.data_off)  # type: ignore[union-attr]
                        insns[pos] = ins._replace(src=PSEUDO_MAP_VALUE, imm=0)
                        map_refs.append((pos, kidx))
                    elif (ext.type_id or ext.is_func) and ext.is_set:  # type: ignore[union-attr]
                        insns[pos] = ins._replace(src=PSEUDO_BTF_ID, imm=ext.kernel_btf_id)  # type: ignore[union-attr]
                        insns[pos + 1] = insns[pos + 1]._replace(imm=0)
                    else:
                        addr = ext.addr  # type: ignore[union-attr]
                        insns[pos] = ins._replace(imm=_s32(addr & 0xFFFFFFFF))
                        insns[pos + 1] = insns[pos + 1]._replace(imm=_s32(addr >> 32))
                elif rel.kind == "extern_call":
                    ext = rel.ext
                    insns[pos] = ins._replace(src=PSEUDO_KFUNC_CALL, off=0,
                                              imm=ext.kernel_btf_id if ext.is_set else 0)  # type: ignore[union-attr]
        return insns, order, map_refs, errors

    # --- building Programs ------------------------------------------------------------
    def build(self, main: _Func) -> tuple[Program | None, list[ElfProblem]]:
        sec_name = main.sec.name
        out: list[ElfProblem] = []

        def problem(reason: str, fatal: bool = True) -> None:
            out.append(ElfProblem(self.file, main.name, reason, sec_name, fatal))

        sd = find_sec_def(sec_name)
        if sd is None:
            problem(f"section name {sec_name!r} matches no libbpf SEC() definition: the program type is unknown")
            return None, out
        if sd.flags & STRUCT_OPS:
            problem("struct_ops programs are attached to a kernel struct_ops member through BTF, which the "
                    "Program record cannot express")
            return None, out
        if sd.flags & NEEDS_TARGET_PROG:
            problem("freplace programs need the loaded program they replace (attach_prog_fd)")
            return None, out
        if self.btf_ext_error:
            problem(self.btf_ext_error)
        insns, order, map_refs, errors = self.link(main)
        for e in errors:
            problem(e)
        for f in order:
            for p in f.problems:
                problem(p if f is main else f"subprogram {f.name}: {p}")
            for n in f.notes:
                problem(n if f is main else f"subprogram {f.name}: {n}", fatal=False)
        # the kernel needs the program's BTF func_info for callbacks, and for tail calls and
        # LD_ABS/LD_IND inside subprograms: with the object's BTF they load, without it they cannot
        btf_needs: list[str] = []

        def needs_btf(reason: str) -> None:
            if self.btf is None:
                problem(f"{reason}: the kernel requires BTF func_info for that, and the object has no .BTF")
            else:
                btf_needs.append(reason)

        pos = main.count
        for f in order[1:]:
            for i in range(pos, pos + f.count):
                ins = insns[i]
                if ins.code == CALL and ins.src == 0 and ins.imm == BPF_FUNC_TAIL_CALL:
                    needs_btf(f"subprogram {f.name} makes a tail call (insn #{i})")
                    break
                if (ins.code & 0x07) == op.BPF_LD and (ins.code & 0xE0) in (op.BPF_ABS, op.BPF_IND):
                    needs_btf(f"subprogram {f.name} has an LD_ABS/LD_IND packet load (insn #{i})")
                    break
            pos += f.count
        for pos, ins in enumerate(insns):
            if ins.code == LD_IMM64 and ins.src == PSEUDO_FUNC:
                needs_btf(f"insn #{pos} takes a function's address (callback)")
                break
        with_btf = self.btf is not None and (bool(btf_needs) or self.prog_btf)
        for f in order[1:]:
            if f.is_global and not with_btf:
                problem(f"global function {f.name} is verified as a static subprogram: the kernel verifies it as a "
                        "global function only with the object's BTF func_info, which this import (prog_btf=False, "
                        "--no-prog-btf) leaves out", fatal=self.strict_btf)
        used_exts = {id(r.ext): r.ext for f in order for i, r in self.relocs.get(f.sec.idx, {}).items()
                     if f.start <= i < f.end and r.ext is not None}
        for ext in used_exts.values():
            if ext.error:
                problem(ext.error)
        used = sorted({m for _, m in map_refs})
        for m in used:
            om = self.maps[m]
            if om.spec is None:
                problem(om.error or f"map '{om.name}' could not be read")
            elif om.needs_btf:
                problem(om.needs_btf)
        if not sd.autoload:
            problem(f"section {sec_name!r} starts with '?': libbpf does not load it by default", fatal=False)
        if any(p.fatal for p in out):
            return None, out
        index = {m: i for i, m in enumerate(used)}
        for pos, m in map_refs:
            insns[pos] = insns[pos]._replace(imm=index[m])
        maps = tuple(self.maps[m].spec for m in used)  # type: ignore[misc]
        tags = [size_class(len(insns)), "elf"]
        if any(i.code == CALL and i.src == 0 for i in insns):
            tags.append("helper")
        if any(i.code == CALL and i.src == PSEUDO_KFUNC_CALL for i in insns):
            tags.append("kfunc")
        if used:
            tags.append("map")
        if any(self.maps[m].kind in ("data", "rodata", "bss", "kconfig") for m in used):
            tags.append("global_data")
        if len(order) > 1:
            tags.append("subprog")
        if any(f.core_count for f in order):
            tags.append("core")
        btf_blob, func_info, line_info = None, (), ()
        refused = kernel_refuses_btf(self.btf) if with_btf else None
        if refused is not None:
            # libbpf loads the object's whole .BTF first; when the kernel refuses it, libbpf goes on
            # without BTF (no func_info, no line_info) unless something needs it
            if btf_needs:
                problem(f"{btf_needs[0]}, but the kernel refuses the object's .BTF ({refused})")
                return None, out
            problem(f"loaded without the object's BTF, as libbpf does when the kernel refuses it ({refused})",
                    fatal=False)
            with_btf = False
        if with_btf:
            btf_blob, func_info, err = self.program_btf(order)
            if err:
                problem(err)
                return None, out
            btf_blob, line_info = self.program_line_info(order, btf_blob)
            tags.append("prog_btf")
        text = self.source_text(order)
        prog = Program(
            id=f"{self.source}/{main.name}",
            source=self.source,
            name=main.name,
            prog_type=sd.prog_type,
            insns=encode(insns),
            maps=maps,
            expected_attach_type=sd.expected_attach_type,
            attach_to=sd.attach_to,
            prog_flags=sd.prog_flags,
            license=self.license,
            tags=tuple(tags),
            source_text=text,
            source_lang="c" if text is not None else None,
            btf=btf_blob,
            func_info=func_info,
            line_info=line_info,
        )
        return prog, out

    def program_btf(self, order: list[_Func]) -> tuple[bytes | None, tuple, str]:
        """The program's BTF as BPF_PROG_LOAD takes it: the FUNC of each linked function (and what
        it references) re-encoded from the object's .BTF, and func_info at each function's first
        instruction. Returns (blob, func_info, error)."""
        assert self.btf is not None
        roots = []
        for f in order:
            ids = self.btf.find(f.name, FUNC)
            if not ids:
                return None, (), f"function {f.name} has no BTF FUNC type in the object's .BTF"
            roots.append(ids[0])
        blob, new_id = encode_subset(self.btf, roots)
        starts, pos = [], 0
        for f in order:
            starts.append(pos)
            pos += f.count
        return blob, tuple((st, new_id[r]) for st, r in zip(starts, roots)), ""

    def program_line_info(self, order: list[_Func], blob: bytes) -> tuple[bytes, tuple]:
        """The object's line_info of the linked functions, on ``blob`` (its strings appended)."""
        if self.btf_ext is None:
            return blob, ()
        hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", blob, 4)
        strings = bytearray(blob[hdr_len + str_off:hdr_len + str_off + str_len])
        offs: dict[str, int] = {}

        def so(text: str) -> int:
            off = offs.get(text)
            if off is None:
                off = offs[text] = len(strings)
                strings.extend(text.encode() + b"\0")
            return off

        recs = []
        pos = 0
        for f in order:
            for insn_off, fname, line, ln, col in self.btf_ext.line_info.get(f.sec.name, []):
                i = insn_off // INSN_SIZE
                if f.start <= i < f.end:
                    recs.append((pos + i - f.start, so(fname), so(line), (ln << 10) | col))
            pos += f.count
        recs.sort(key=lambda r: r[0])
        head = bytearray(blob[:hdr_len])
        struct.pack_into("<I", head, 20, len(strings))
        return bytes(head) + blob[hdr_len + type_off:hdr_len + type_off + type_len] + bytes(strings), tuple(recs)

    def source_text(self, order: list[_Func]) -> str | None:
        """The C file the program was compiled from, when .BTF.ext names one that is still readable."""
        if self.btf_ext is None:
            return None
        names: list[str] = []
        for f in order:
            for _off, fname, _line, _ln, _col in self.btf_ext.line_info.get(f.sec.name, []):
                if fname and fname not in names:
                    names.append(fname)
        src_dir = Path(__file__).resolve().parent / "elf_src"
        for fname in names:
            # where it was compiled, else the example of the same name in selftests/elf_src
            for p in (Path(fname), src_dir / Path(fname).name):
                try:
                    if p.is_absolute() and p.is_file() and p.stat().st_size <= MAX_SOURCE_BYTES:
                        return p.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
        return None

    def run(self) -> list[Program]:
        try:
            self.read()
        except ElfFileError as e:
            self.obj_problem(str(e))
            return []
        lic = self.sec_by_name("license")
        if lic is not None and lic.data is not None:
            self.license = lic.data.split(b"\0", 1)[0][:63].decode("utf-8", "replace")
        else:
            self.obj_problem("no 'license' section: the program is loaded with an empty (non-GPL) license",
                             fatal=False)
        self.read_btf()
        self.collect_funcs()
        self.collect_maps()
        self.collect_externs()
        self.apply_core()
        self.collect_relocs()
        mains = [f for f in self.funcs if f.sec.name != ".text"]
        if not mains and not any(p.fatal for p in self.problems):
            self.obj_problem("no programs: no function outside .text (no SEC() annotation)")
        programs: list[Program] = []
        seen: set[str] = set()
        for f in mains:
            if f.name in seen:
                self.problems.append(ElfProblem(self.file, f.name, "duplicate program name", f.sec.name))
                continue
            seen.add(f.name)
            prog, probs = self.build(f)
            self.problems.extend(probs)
            if prog is not None:
                programs.append(prog)
        return programs


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def default_source(path: str | Path) -> str:
    """The ``source`` of programs imported from ``path``: ``elf/<file name up to its first dot>``."""
    return "elf/" + Path(path).name.split(".", 1)[0]


def import_elf(path: str | Path, source: str | None = None, kernel_btf_path: str = KERNEL_BTF,
               kconfig_text: str | None = None, strict_btf: bool = False,
               prog_btf: bool = True) -> tuple[list[Program], list[ElfProblem]]:
    """The programs of BPF object ``path`` and the problems met (see the module doc). Never raises for bad input.

    ``source`` is the id prefix (default ``elf/<name>``); ``kernel_btf_path`` the BTF
    CO-RE relocations and ksyms resolve against; ``kconfig_text`` replaces the
    running kernel's config for ``CONFIG_*`` externs. ``strict_btf`` refuses programs
    calling global functions (which the kernel then verifies as static) instead of
    noting it; ``prog_btf`` (default, as libbpf) gives every program its BTF
    func_info and line_info (the kernel then verifies global functions as global);
    without it only programs that cannot load otherwise (callbacks, tail calls and
    LD_ABS/LD_IND in subprograms) get it.
    """
    path = Path(path)
    imp = _Importer(path, source or default_source(path), kernel_btf_path, kconfig_text, strict_btf, prog_btf)
    try:
        programs = imp.run()
    except (BtfError, CoreError, ValueError, struct.error, IndexError, KeyError, RecursionError, OverflowError) as e:
        # a malformed object that slipped past the checks above: report it, never raise
        imp.obj_problem(f"malformed object: {type(e).__name__}: {e}")
        programs = []
    return programs, imp.problems


def core_relocations(path: str | Path, kernel_btf_path: str = KERNEL_BTF) -> tuple[list[CoreApplied],
                                                                                   list[ElfProblem]]:
    """Every CO-RE relocation of object ``path`` resolved against ``kernel_btf_path``, in .BTF.ext order."""
    path = Path(path)
    imp = _Importer(path, default_source(path), kernel_btf_path, None)
    try:
        imp.read()
        imp.read_btf()
        imp.collect_funcs()
        imp.apply_core()
    except ElfFileError as e:
        imp.obj_problem(str(e))
    return imp.core_log, imp.problems


DESCRIPTION = ("Import the programs of BPF ELF objects (clang -target bpf) as a JSON Lines corpus, relocated the way "
               "libbpf loads them (maps, global data, subprograms, CO-RE, externs). Prints, per program, 'imported' "
               "or the problem; exits 1 when some program or object could not be imported.")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The command-line arguments of the importer (shared with ``verifier-diff corpus import-elf``)."""
    ap.add_argument("objects", nargs="+", metavar="OBJ", help="BPF object files (.o)")
    ap.add_argument("--out", required=True, metavar="FILE.jsonl", help="where to write the imported programs")
    ap.add_argument("--source", help="id prefix of the programs (default: elf/<object name>)")
    ap.add_argument("--btf", default=KERNEL_BTF, help=f"target BTF for CO-RE and ksyms (default {KERNEL_BTF})")
    ap.add_argument("--core", action="store_true", help="also print every CO-RE relocation and its value")
    ap.add_argument("--strict-btf", action="store_true",
                    help="refuse programs calling global functions (verified as static without BTF) instead of "
                         "importing them with a note")
    ap.add_argument("--no-prog-btf", dest="prog_btf", action="store_false",
                    help="do not give programs the object's BTF func_info/line_info where they can load without "
                         "it (libbpf always does; without it global functions are verified as static)")


def run(args: argparse.Namespace) -> int:
    """Import ``args.objects`` into ``args.out`` (see ``add_arguments``); 0 when nothing was left out."""
    from .corpus import write_jsonl

    all_programs: list[Program] = []
    seen: set[str] = set()
    n_problems = 0
    for obj in args.objects:
        programs, problems = import_elf(obj, source=args.source, kernel_btf_path=args.btf,
                                        strict_btf=args.strict_btf, prog_btf=args.prog_btf)
        for p in programs:
            if p.id in seen:
                print(f"{obj}: {p.name}: problem: duplicate program id {p.id!r}, skipped")
                n_problems += 1
                continue
            seen.add(p.id)
            all_programs.append(p)
            print(f"{obj}: {p.name}: imported as {p.id} ({uapi.prog_type_name(p.prog_type)}, {p.insn_count} insns, "
                  f"{len(p.maps)} maps)")
        for pr in problems:
            print(str(pr))
            n_problems += pr.fatal
        if args.core:
            for c in core_relocations(obj, args.btf)[0]:
                value = c.error or ("poisoned" if c.poisoned else f"{c.orig_val} -> {c.new_val}")
                print(f"{obj}: CO-RE {c.section} insn #{c.insn}: {c.kind} {c.local} => {c.target or '-'}: {value}")
    n = write_jsonl(all_programs, args.out)
    print(f"{n} programs written to {args.out}; {n_problems} problems")
    return 0 if n_problems == 0 else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m selftests.elf", description=DESCRIPTION)
    add_arguments(ap)
    return run(ap.parse_args(argv))


def kernel_refuses_btf(btf: Btf | None) -> str | None:
    """Why the kernel's BPF_BTF_LOAD would refuse the object's .BTF, for the rules checked here (a FUNC
    whose prototype has a typed but unnamed argument, as clang emits for some ``__naked`` functions).
    An extern FUNC (a kfunc declaration) does not count: libbpf names its arguments before loading."""
    if btf is None:
        return None
    for t in btf.types[1:]:
        if t.kind != FUNC or t.vlen == B.FUNC_EXTERN:
            continue
        try:
            proto = btf.type(t.size_type)
        except BtfError:
            continue
        for i, (name, tid) in enumerate(proto.members):
            if tid and not name:
                return f"FUNC {t.name} has an unnamed argument #{i + 1}"
    return None


if __name__ == "__main__":
    sys.exit(main())

