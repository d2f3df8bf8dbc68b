"""Extern symbols of a BPF object: ``__kconfig`` values and ``__ksym`` kernel symbols.

An extern is an undefined global or weak symbol of the object whose BTF
``VAR`` or ``FUNC`` lives in the ``.kconfig`` or ``.ksyms`` DATASEC. They are
resolved against the running kernel the way libbpf resolves them:

* ``.kconfig``: ``CONFIG_*`` from ``/boot/config-$(uname -r)`` or
  ``/proc/config.gz``; ``LINUX_KERNEL_VERSION`` from the release;
  ``LINUX_HAS_BPF_COOKIE`` and ``LINUX_HAS_SYSCALL_WRAPPER``. They are laid out
  (largest alignment first, then size, then name) in one frozen read-only
  array map, ``.kconfig``; an instruction reading one becomes a map value
  reference at its offset.
* ``.ksyms`` functions (kfuncs): the id of the kernel's BTF ``FUNC`` of that
  name, after checking the prototypes are compatible.
* ``.ksyms`` typed variables: the id of the kernel's BTF ``VAR``
  (``BPF_PSEUDO_BTF_ID``); untyped (``const void``) ones: the address from
  ``/proc/kallsyms``.

An unresolved weak extern is zero (a kfunc call stays with id 0, as libbpf
does); an unresolved strong one is an error for the programs that use it.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass, field

from . import btf as B
from .btf import Btf, BtfError, essential_name
from .core_relo import CoreError, types_are_compat

KCFG_UNKNOWN, KCFG_CHAR, KCFG_BOOL, KCFG_INT, KCFG_TRISTATE, KCFG_CHAR_ARR = range(6)
TRI_NO, TRI_YES, TRI_MODULE = 0, 1, 2


@dataclass
class Extern:
    name: str
    sym_idx: int
    kind: str  # "kcfg" or "ksym"
    is_weak: bool
    btf_id: int  # the local VAR or FUNC
    is_func: bool = False
    is_set: bool = False
    error: str | None = None
    # kcfg
    kcfg_type: int = KCFG_UNKNOWN
    kcfg_size: int = 0
    kcfg_align: int = 1
    kcfg_signed: bool = False
    data_off: int = 0
    # ksym
    type_id: int = 0  # local type (after modifiers/typedefs); 0: untyped
    kernel_btf_id: int = 0
    addr: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def essential(self) -> str:
        return essential_name(self.name)


def align_of(btf: Btf, tid: int) -> int:
    """libbpf's btf__align_of for the types a kconfig extern can have."""
    for _ in range(B.MAX_RESOLVE_DEPTH):
        t = btf.type(tid)
        if t.kind in (B.INT, B.ENUM, B.ENUM64, B.FLOAT):
            return min(8, t.size_type)
        if t.kind == B.PTR:
            return B.PTR_SIZE
        if t.kind in (B.TYPEDEF, B.VOLATILE, B.CONST, B.RESTRICT, B.TYPE_TAG):
            tid = t.size_type
            continue
        if t.kind == B.ARRAY:
            tid = t.extra[0]
            continue
        if t.kind in (B.STRUCT, B.UNION):
            return max([align_of(btf, m[1]) for m in t.members] or [1])
        break
    raise BtfError(f"cannot compute alignment of {btf.type_str(tid)}")


def kcfg_type(btf: Btf, tid: int) -> tuple[int, bool]:
    _, t = btf.skip_mods_and_typedefs(tid)
    if t.kind == B.INT:
        enc = t.extra[0]
        if enc & B.INT_BOOL:
            return (KCFG_BOOL if t.size_type == 1 else KCFG_UNKNOWN), False
        signed = bool(enc & B.INT_SIGNED)
        if t.size_type == 1:
            return KCFG_CHAR, signed
        if t.size_type not in (2, 4, 8):
            return KCFG_UNKNOWN, signed
        return KCFG_INT, signed
    if t.kind == B.ENUM:
        return (KCFG_TRISTATE if t.size_type == 4 and t.name == "libbpf_tristate" else KCFG_UNKNOWN), False
    if t.kind == B.ENUM64:
        return (KCFG_TRISTATE if t.name == "libbpf_tristate" else KCFG_UNKNOWN), False
    if t.kind == B.ARRAY:
        if t.extra[2] == 0 or kcfg_type(btf, t.extra[0])[0] != KCFG_CHAR:
            return KCFG_UNKNOWN, False
        return KCFG_CHAR_ARR, False
    return KCFG_UNKNOWN, False


def _find_extern_btf(btf: Btf, name: str) -> int:
    for i in btf.find(name):
        t = btf.types[i]
        if t.kind == B.VAR:
            return i if t.extra == B.VAR_GLOBAL_EXTERN else -1
        if t.kind == B.FUNC:
            return i if t.vlen == B.FUNC_EXTERN else -1
    return 0


def collect_externs(btf: Btf | None, symbols: list[tuple[int, str, bool]]) -> tuple[list[Extern], list[str]]:
    """Externs of the object from (symbol index, name, is_weak) of its undefined symbols.

    Returns (externs, object-level errors).
    """
    out: list[Extern] = []
    errors: list[str] = []
    if not symbols:
        return out, errors
    if btf is None:
        return out, [f"extern '{n}' needs the object's .BTF, which is missing or unreadable" for _i, n, _w in symbols]
    sec_of: dict[int, str] = {}
    for sec_id, sec_name in ((i, t.name) for i, t in enumerate(btf.types) if t.kind == B.DATASEC):
        for v, _o, _s in btf.types[sec_id].members:
            sec_of[v] = sec_name
    for sym_idx, name, weak in symbols:
        bid = _find_extern_btf(btf, name)
        if bid <= 0:
            errors.append(f"failed to find BTF for extern '{name}'")
            continue
        t = btf.types[bid]
        sec = sec_of.get(bid)
        ext = Extern(name=name, sym_idx=sym_idx, kind="", is_weak=weak, btf_id=bid, is_func=t.kind == B.FUNC)
        if sec == ".kconfig":
            ext.kind = "kcfg"
            if ext.is_func:
                ext.error = f"extern function {name} is unsupported under .kconfig section"
            else:
                try:
                    ext.kcfg_size = btf.resolve_size(t.size_type)
                    ext.kcfg_align = align_of(btf, t.size_type)
                except BtfError as e:
                    ext.error = f"extern (kcfg) '{name}': {e}"
                ext.kcfg_type, ext.kcfg_signed = kcfg_type(btf, t.size_type)
                if ext.kcfg_type == KCFG_UNKNOWN and not ext.error:
                    ext.error = f"extern (kcfg) '{name}': type is unsupported"
        elif sec == ".ksyms":
            ext.kind = "ksym"
            ext.type_id, _ = btf.skip_mods_and_typedefs(t.size_type)
        else:
            if sec is None or sec == ".maps":
                errors.append(f"extern '{name}' is defined in another object (section {sec or 'none'}): link the "
                              "objects first (bpftool gen object OUT.o A.o B.o)")
            else:
                errors.append(f"extern '{name}' is in unrecognized extern section {sec!r}")
            continue
        out.append(ext)
    # kconfig layout: descending alignment, ascending size, then name (libbpf's order)
    kc = sorted((e for e in out if e.kind == "kcfg"), key=lambda e: (-e.kcfg_align, e.kcfg_size, e.name))
    off = 0
    for e in kc:
        e.data_off = (off + e.kcfg_align - 1) // e.kcfg_align * e.kcfg_align
        off = e.data_off + e.kcfg_size
    return out, errors


def kconfig_size(externs: list[Extern]) -> int:
    kc = [e for e in externs if e.kind == "kcfg"]
    return max((e.data_off + e.kcfg_size for e in kc), default=0)


def kernel_version(release: str | None = None) -> int:
    """KERNEL_VERSION(major, minor, patch) of the release (patch capped at 255), 0 if unparsable."""
    rel = release or os.uname().release
    parts = []
    for p in rel.split(".")[:3]:
        digits = ""
        for c in p:
            if not c.isdigit():
                break
            digits += c
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(p):
            break
    if len(parts) != 3:
        return 0
    return (parts[0] << 16) + (parts[1] << 8) + min(parts[2], 255)


def read_kconfig() -> tuple[str | None, str]:
    """The running kernel's Kconfig text and where it came from (text None when unreadable)."""
    path = f"/boot/config-{os.uname().release}"
    for p in (path, "/proc/config.gz"):
        try:
            with open(p, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                continue
        return raw.decode("utf-8", "replace"), p
    return None, f"{path} and /proc/config.gz are unreadable"


def _parse_u64(text: str) -> int:
    neg = text.startswith("-")
    body = text[1:] if neg or text.startswith("+") else text
    low = body.lower()
    if low.startswith("0x"):
        v = int(low[2:], 16)
    elif len(low) > 1 and low.startswith("0"):
        v = int(low[1:], 8)
    else:
        v = int(low, 10)
    return (-v if neg else v) & 0xFFFFFFFFFFFFFFFF


def _set_num(e: Extern, buf: bytearray, value: int) -> None:
    if e.kcfg_type not in (KCFG_INT, KCFG_CHAR, KCFG_BOOL):
        raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' implies integer, char, or boolean type")
    if e.kcfg_type == KCFG_BOOL and value > 1:
        raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' isn't boolean compatible")
    bits = e.kcfg_size * 8
    if e.kcfg_size != 8:
        ok = (value + (1 << (bits - 1))) % (1 << 64) < (1 << bits) if e.kcfg_signed else (value >> bits) == 0
        if not ok:
            raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' doesn't fit in {e.kcfg_size} bytes")
    fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}.get(e.kcfg_size)
    if fmt is None:
        raise ValueError(f"extern (kcfg) '{e.name}': size {e.kcfg_size} is invalid")
    struct.pack_into(fmt, buf, e.data_off, value & ((1 << bits) - 1))
    e.is_set = True


def _set_kconfig_line(e: Extern, buf: bytearray, value: str) -> None:
    c = value[:1]
    if c in ("y", "n", "m"):
        if e.kcfg_type == KCFG_BOOL:
            if c == "m":
                raise ValueError(f"extern (kcfg) '{e.name}': value 'm' implies tristate or char type")
            buf[e.data_off] = 1 if c == "y" else 0
        elif e.kcfg_type == KCFG_TRISTATE:
            struct.pack_into("<I", buf, e.data_off, {"y": TRI_YES, "m": TRI_MODULE, "n": TRI_NO}[c])
        elif e.kcfg_type == KCFG_CHAR:
            buf[e.data_off] = ord(c)
        else:
            raise ValueError(f"extern (kcfg) '{e.name}': value '{c}' implies bool, tristate, or char type")
        e.is_set = True
    elif c == '"':
        if e.kcfg_type != KCFG_CHAR_ARR:
            raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' implies char array type")
        if not value.endswith('"') or len(value) < 2:
            raise ValueError(f"extern (kcfg) '{e.name}': invalid string config '{value}'")
        s = value[1:-1].encode()
        if len(s) >= e.kcfg_size:
            e.notes.append(f"extern (kcfg) '{e.name}': long string truncated to {e.kcfg_size - 1} bytes")
            s = s[: e.kcfg_size - 1]
        buf[e.data_off : e.data_off + len(s) + 1] = s + b"\0"
        e.is_set = True
    else:
        try:
            num = _parse_u64(value)
        except ValueError:
            raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' isn't a valid integer") from None
        if e.kcfg_type not in (KCFG_INT, KCFG_CHAR):
            raise ValueError(f"extern (kcfg) '{e.name}': value '{value}' implies integer type")
        _set_num(e, buf, num)


def _kallsyms() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/kallsyms") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    out.setdefault(parts[2], int(parts[0], 16))
    except OSError:
        pass
    return out


def resolve_externs(externs: list[Extern], local: Btf | None, kernel: Btf | None, kernel_err: str | None,
                    kconfig_text: str | None = None) -> bytes:
    """Resolve every extern in place (``is_set``/``error``/values); returns the .kconfig map's bytes."""
    buf = bytearray(kconfig_size(externs))
    need_config = False
    for e in externs:
        if e.kind != "kcfg" or e.error:
            continue
        try:
            if e.name.startswith("CONFIG_"):
                need_config = True
            elif e.name == "LINUX_KERNEL_VERSION":
                v = kernel_version()
                if not v:
                    raise ValueError(f"extern (kcfg) '{e.name}': failed to get kernel version")
                _set_num(e, buf, v)
            elif e.name == "LINUX_HAS_BPF_COOKIE":
                _set_num(e, buf, 1 if kernel_version() >= (5 << 16) + (15 << 8) else 0)
            elif e.name == "LINUX_HAS_SYSCALL_WRAPPER":
                syms = _kallsyms()
                _set_num(e, buf, int(any(f"{p}sys_bpf" in syms for p in ("__x64_", "__arm64_", "__s390x_",
                                                                          "__ia32_", "__riscv_"))))
                e.notes.append("LINUX_HAS_SYSCALL_WRAPPER decided from /proc/kallsyms (libbpf probes a kprobe)")
            elif not e.name.startswith("LINUX_") or not e.is_weak:
                raise ValueError(f"extern (kcfg) '{e.name}': unrecognized virtual extern")
        except ValueError as err:
            e.error = str(err)
    if need_config:
        text, where = (kconfig_text, "given Kconfig") if kconfig_text is not None else read_kconfig()
        if text is None:
            for e in externs:
                if e.kind == "kcfg" and e.name.startswith("CONFIG_") and not e.is_weak:
                    e.error = f"extern (kcfg) '{e.name}': no kernel config ({where})"
        else:
            by_name = {e.name: e for e in externs if e.kind == "kcfg" and e.name.startswith("CONFIG_")}
            for line in text.splitlines():
                if not line.startswith("CONFIG_") or "=" not in line:
                    continue
                key, value = line.split("=", 1)
                e = by_name.get(key)
                if e is None or e.is_set or e.error or not value:
                    continue
                try:
                    _set_kconfig_line(e, buf, value)
                except ValueError as err:
                    e.error = str(err)
    kallsyms: dict[str, int] | None = None
    for e in externs:
        if e.kind != "ksym" or e.error:
            continue
        if e.type_id == 0 and not e.is_func:  # untyped: address from kallsyms
            if kallsyms is None:
                kallsyms = _kallsyms()
            addr = kallsyms.get(e.essential)
            if addr is not None:
                e.addr, e.is_set = addr, True
            continue
        if kernel is None:
            if not e.is_weak:
                e.error = f"extern (ksym) '{e.name}': kernel BTF unavailable ({kernel_err})"
            continue
        kind = B.FUNC if e.is_func else B.VAR
        ids = kernel.find(e.essential, kind)
        if not ids:
            if not e.is_weak:
                what = "func ksym" if e.is_func else "var ksym"
                e.error = f"extern ({what}) '{e.name}': not found in kernel BTF"
            continue
        kid = ids[0]
        kt = kernel.types[kid]
        try:
            if e.is_func:
                local_proto = local.types[e.btf_id].size_type if local is not None else 0
                compat = types_are_compat(local, local_proto, kernel, kt.size_type)  # type: ignore[arg-type]
            else:
                targ, _ = kernel.skip_mods_and_typedefs(kt.size_type)
                compat = types_are_compat(local, e.type_id, kernel, targ)  # type: ignore[arg-type]
        except (CoreError, BtfError) as err:
            compat = False
            e.notes.append(f"compatibility check failed: {err}")
        if not compat:
            if not e.is_weak:
                e.error = (f"extern ({'func' if e.is_func else 'var'} ksym) '{e.name}': local type incompatible with "
                           f"kernel {kernel.type_str(kid)}")
            continue
        e.kernel_btf_id, e.is_set = kid, True
    for e in externs:
        if not e.is_set and not e.error and not e.is_weak:
            e.error = f"extern '{e.name}' (strong): not resolved"
        elif not e.is_set and not e.error:
            e.notes.append(f"extern '{e.name}' (weak): not resolved, defaulting to zero")
    return bytes(buf)
