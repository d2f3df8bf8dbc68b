"""Load a ``Program`` into the running kernel and report what its verifier said.

``load()`` resolves the attach target (tracing and LSM programs: the kernel BTF
id of ``attach_to``), creates the program's maps (with their BTF when they
carry one), patches their fds into the map references, calls
``BPF_PROG_LOAD`` with the chosen log level (the statistics flag 4 is always
added, so ``verification time`` and ``stack depth`` are in the log), grows the
log buffer when the kernel says it is too small, parses the statistics, reads
``bpf_prog_info`` of an accepted program and closes every fd it opened.

``load(program, privileged=False)`` does the same in a child process whose
capabilities are dropped (``kernel_loader.unpriv``), as the kernel selftests'
``/u`` runs do.

Verdicts and stages: ``kernel_loader.outcome``. In short, an fd is ``accept``;
a refusal by the kernel is ``reject``; a load that could not be attempted (EPERM
before the verifier, a map that could not be created, an unresolvable attach
target, a facility the kernel lacks) is ``error``: the tool or the environment,
not the kernel's verifier, decided. ``Result.stage`` says which.
"""
from __future__ import annotations

import ctypes
import errno as E
import os
import struct
import time
from contextlib import ExitStack, contextmanager
from typing import Iterator

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import Program
from pyverifier.result import ERROR, Result, parse_log_stats

from . import syscall as sc
from .info import prog_info
from .logbuf import INITIAL_SIZE as INITIAL_LOG_SIZE, LogBuffer
from .btf import BtfLoadError, load_btf
from .maps import MapCreateError, created_maps
from .outcome import (REJECT_ERRNOS, STAGE_ATTACH_TARGET, STAGE_LOAD, STAGE_MAPS, STAGE_PROGRAM, STAGE_VERIFIER,
                      apply_outcome, repetition_changed)
from .vmlinux import BTF_ATTACHED_PROG_TYPES, AttachTargetError, resolve_attach_btf_id

LOG_STATS = 4
MAX_LOG_SIZE = (1 << 32) - 1  # the kernel's cap on log_size (u32; 6.4+ accepts up to UINT_MAX >> 2 per level)

# ld_imm64 opcode and its map-reference pseudo sources (BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE)
_LD_IMM64 = 0x18
_MAP_REF_SRCS = (1, 2)

_REJECT_ERRNOS = REJECT_ERRNOS  # the name kernel_loader.matrix imports

_PROG_EXT = uapi.PROG_TYPES["ext"]
_PROG_STRUCT_OPS = uapi.PROG_TYPES["struct_ops"]


def kernel_name() -> str:
    return f"kernel-{os.uname().release}"


def patch_map_fds(insns: list[Insn], fds: list[int]) -> list[Insn]:
    """Replace map indices in ld_imm64 map references by the created maps' fds."""
    out = list(insns)
    for i, ins in enumerate(out):
        if ins.code == _LD_IMM64 and ins.src in _MAP_REF_SRCS:
            if not 0 <= ins.imm < len(fds):
                raise ValueError(f"insn {i}: map reference to index {ins.imm}, but the program has {len(fds)} maps")
            out[i] = ins._replace(imm=fds[ins.imm])
    return out


def attach_btf_id_of(program: Program) -> int:
    """The ``attach_btf_id`` BPF_PROG_LOAD needs for ``program`` (0 when none).

    Raises AttachTargetError when the target cannot be resolved or the program
    needs a kind of target this loader does not provide.
    """
    if program.prog_type in BTF_ATTACHED_PROG_TYPES:
        if not program.attach_to:
            return 0  # the kernel decides (it refuses tracing programs without a target)
        return resolve_attach_btf_id(program.attach_to, program.expected_attach_type)
    if program.prog_type == _PROG_EXT:
        raise AttachTargetError("freplace (ext) programs attach to another loaded program (attach_prog_fd), "
                                "which kernel_loader does not provide")
    if program.prog_type == _PROG_STRUCT_OPS:
        raise AttachTargetError("struct_ops programs need their struct_ops type (attach_btf_id of a "
                                "bpf_struct_ops_* struct), which kernel_loader does not resolve")
    return 0  # other program types name no target at load time


def prog_load(program: Program, insns_b: bytes, log_level: int, log_size: int, fds: list[int],
              attach_btf_id: int = 0, btf_fd: int = -1) -> tuple[int, str, int]:
    """One BPF_PROG_LOAD. Returns (fd or -errno, log text, log_true_size).

    ``btf_fd`` (>= 0) is the program's loaded BTF; its func_info and line_info go along.
    """
    insn_buf = ctypes.create_string_buffer(insns_b, len(insns_b))
    lic = ctypes.create_string_buffer(program.license.encode() + b"\0")
    log = LogBuffer(log_size) if log_level else None
    fd_array = (ctypes.c_int * max(len(fds), 1))(*fds)
    attr = sc.new_attr()
    sc.pack(attr, "<IIQQIIQII", 0, program.prog_type, len(insns_b) // 8, sc.addr(insn_buf), sc.addr(lic),
            log_level, log_size if log_level else 0, log.addr if log is not None else 0, 0, program.prog_flags)
    name = "".join(c if (c.isalnum() or c == "_") else "_" for c in program.name)[:15].encode()
    ctypes.memmove(ctypes.addressof(attr) + 48, name, len(name))
    sc.pack(attr, "<I", 68, program.expected_attach_type or 0)
    if attach_btf_id:
        sc.pack(attr, "<I", 108, attach_btf_id)
    if fds:
        sc.pack(attr, "<Q", 120, ctypes.addressof(fd_array))
    if btf_fd >= 0:
        fi = b"".join(struct.pack("<II", *r) for r in program.func_info)
        li = b"".join(struct.pack("<IIII", *r) for r in program.line_info)
        fi_buf = ctypes.create_string_buffer(fi, max(len(fi), 1))
        li_buf = ctypes.create_string_buffer(li, max(len(li), 1))
        sc.pack(attr, "<IIQI", 72, btf_fd, 8 if fi else 0, sc.addr(fi_buf) if fi else 0, len(program.func_info))
        sc.pack(attr, "<IQI", 92, 16 if li else 0, sc.addr(li_buf) if li else 0, len(program.line_info))
    try:
        fd = sc.bpf(sc.BPF_PROG_LOAD, attr)
    except sc.BpfError as e:
        fd = -e.errno
    text = ""
    if log is not None:
        text = log.text()
        log.close()
    (true_size,) = struct.unpack_from("<I", attr, 140)
    return fd, text, true_size



@contextmanager
def program_btf_fd(program: Program) -> Iterator[int]:
    """The program's BTF loaded into the kernel for the block (-1 when it has none).

    Raises ``BtfLoadError`` when the kernel refuses the blob.
    """
    if program.btf is None:
        yield -1
        return
    fd = load_btf(program.btf)
    try:
        yield fd
    finally:
        sc.close(fd)


def load_with_log(program: Program, insns_b: bytes, level: int, fds: list[int],
                  attach_btf_id: int = 0, btf_fd: int = -1) -> tuple[int, str]:
    """BPF_PROG_LOAD with a log buffer regrown to the kernel's ``log_true_size`` until the log fits."""
    size = INITIAL_LOG_SIZE
    while True:
        fd, text, true_size = prog_load(program, insns_b, level, size, fds, attach_btf_id, btf_fd)
        if fd == -E.ENOSPC and true_size > size and size < MAX_LOG_SIZE:
            size = min(true_size + 1, MAX_LOG_SIZE)
            continue
        return fd, text


def load(program: Program, log_level: int = 2, repeat: int = 1, privileged: bool = True,
         info: bool = True) -> Result:
    """Verify ``program`` with the running kernel. Never raises for a bad program.

    ``privileged=False`` loads it in a child process without CAP_BPF, CAP_SYS_ADMIN,
    CAP_PERFMON and CAP_NET_ADMIN (see ``kernel_loader.unpriv``). ``info`` reads
    ``bpf_prog_info`` of an accepted program into ``verified_insns``,
    ``xlated_prog_len`` and ``jited_prog_len``.
    """
    if not privileged:
        from .unpriv import load_unprivileged

        return load_unprivileged(program, log_level=log_level, repeat=repeat, info=info)
    return load_here(program, log_level=log_level, repeat=repeat, info=info)


def load_here(program: Program, log_level: int = 2, repeat: int = 1, info: bool = True,
              privileged: bool = True, info_hook=None) -> Result:
    """``load`` in this process, with whatever capabilities it has (``privileged`` only labels the Result).

    ``info_hook``, when given, is a context manager factory entered around the
    ``bpf_prog_info`` call (the unprivileged child raises its capabilities there).
    """
    res = Result(program_id=program.id, verifier=kernel_name(), verdict=ERROR, log_level=log_level,
                 privileged=privileged)
    t0 = time.perf_counter()
    try:
        insns = decode(program.insns)
    except ValueError as e:
        res.stage = STAGE_PROGRAM
        res.message = f"malformed program: {e}"
        return res
    try:
        res.attach_btf_id = attach_btf_id_of(program) or None
    except AttachTargetError as e:
        res.stage = STAGE_ATTACH_TARGET
        res.message = f"load not attempted: {e}"
        return res
    level = log_level | LOG_STATS
    try:
        with created_maps(program.maps) as fds, program_btf_fd(program) as btf_fd:
            try:
                insns_b = encode(patch_map_fds(insns, fds))
            except ValueError as e:
                res.stage = STAGE_PROGRAM
                res.message = f"malformed program: {e}"
                return res
            times: list[float] = []
            first_fd, first_text = 0, ""
            for rep in range(max(1, repeat)):
                fd, text = load_with_log(program, insns_b, level, fds, res.attach_btf_id or 0, btf_fd)
                if fd >= 0:
                    try:
                        if rep == 0 and info:
                            _read_info(res, fd, info_hook)
                    finally:
                        sc.close(fd)
                m = _verification_time(text)
                if m is not None:
                    times.append(m)
                if rep == 0:
                    first_fd, first_text = fd, text
                elif (fd >= 0) != (first_fd >= 0):
                    res.stage = STAGE_VERIFIER
                    res.message = repetition_changed(rep, fd)
                    res.log = first_text
                    return res
    except MapCreateError as e:
        res.errno = e.errno
        res.stage = STAGE_MAPS
        res.message = str(e)
        return res
    except BtfLoadError as e:
        res.errno = e.errno
        res.stage = STAGE_PROGRAM
        res.message = f"program BTF refused by the kernel: {e}"
        return res
    except sc.BpfError as e:  # bpf() itself unusable
        res.errno = e.errno
        res.stage = STAGE_LOAD
        res.message = f"bpf() failed: {e.strerror}"
        return res
    caps = False
    if first_fd == -E.EPERM:
        from .unpriv import has_admin_caps

        caps = privileged and has_admin_caps()
    apply_outcome(res, first_fd, first_text, caps_held=caps, program=program)
    res.verify_us = times
    res.wall_us = (time.perf_counter() - t0) * 1e6
    return res


def _verification_time(text: str) -> float | None:
    t = parse_log_stats(text).get("verification_time_us")
    return float(t) if t is not None else None


def _read_info(res: Result, fd: int, info_hook) -> None:
    try:
        if info_hook is not None:
            with info_hook():
                pi = prog_info(fd)
        else:
            pi = prog_info(fd)
    except (sc.BpfError, OSError):
        return  # statistics only: a refusal does not change the verdict
    res.verified_insns = pi.verified_insns
    res.xlated_prog_len = pi.xlated_prog_len
    res.jited_prog_len = pi.jited_prog_len



@contextmanager
def open_program(program: Program, log_level: int = 1) -> Iterator[tuple[int | None, Result]]:
    """Load ``program`` once and keep it loaded for the block: yields (fd or None, Result).

    The fd (and the maps') are closed when the block exits, also on an exception.
    Used to attach an accepted program (``kernel_loader.attach``).
    """
    res = Result(program_id=program.id, verifier=kernel_name(), verdict=ERROR, log_level=log_level)
    try:
        insns = decode(program.insns)
        btf_id = attach_btf_id_of(program)
    except ValueError as e:
        res.stage, res.message = STAGE_PROGRAM, f"malformed program: {e}"
        yield None, res
        return
    except AttachTargetError as e:
        res.stage, res.message = STAGE_ATTACH_TARGET, f"load not attempted: {e}"
        yield None, res
        return
    res.attach_btf_id = btf_id or None
    with ExitStack() as stack:
        try:
            fds = stack.enter_context(created_maps(program.maps))
            btf_fd = stack.enter_context(program_btf_fd(program))
            insns_b = encode(patch_map_fds(insns, fds))
        except MapCreateError as e:
            res.errno, res.stage, res.message = e.errno, STAGE_MAPS, str(e)
            yield None, res
            return
        except BtfLoadError as e:
            res.errno, res.stage, res.message = e.errno, STAGE_PROGRAM, f"program BTF refused by the kernel: {e}"
            yield None, res
            return
        except ValueError as e:
            res.stage, res.message = STAGE_PROGRAM, f"malformed program: {e}"
            yield None, res
            return
        fd, text = load_with_log(program, insns_b, log_level | LOG_STATS, fds, btf_id, btf_fd)
        if fd >= 0:
            stack.callback(sc.close, fd)
        apply_outcome(res, fd, text, program=program)
        yield (fd if fd >= 0 else None), res
