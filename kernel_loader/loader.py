"""Load a ``Program`` into the running kernel and report what its verifier said.

``load()`` creates the program's maps, patches their fds into the map
references, calls ``BPF_PROG_LOAD`` with the chosen log level (the statistics
flag 4 is always added, so ``verification time`` and ``stack depth`` are in
the log), grows the log buffer when the kernel says it is too small, parses
the statistics and closes every fd it opened.

Verdicts: an fd means ``accept``; a verifier refusal (the kernel ran the
verifier or checked the program and said no) means ``reject``; a load that
could not be attempted (EPERM before the verifier, a map that could not be
created, an unresolvable attach target) is ``error``: the tool, not the
kernel's verifier, decided.
"""
from __future__ import annotations

import ctypes
import errno as E
import os
import struct
import time

from pyverifier.insn import Insn, decode, encode
from pyverifier.program import Program
from pyverifier.result import ACCEPT, ERROR, REJECT, Result, parse_log_stats, rejection_message

from . import syscall as sc
from .maps import MapCreateError, created_maps

LOG_STATS = 4
INITIAL_LOG_SIZE = 1 << 20
MAX_LOG_SIZE = (1 << 32) - 1  # the kernel's cap on log_size (u32; 6.4+ accepts up to UINT_MAX >> 2 per level)

# errnos with which the kernel refuses a program it examined; anything else is an environment failure
# ld_imm64 opcode and its map-reference pseudo sources (BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE)
_LD_IMM64 = 0x18
_MAP_REF_SRCS = (1, 2)

_REJECT_ERRNOS = {E.EINVAL, E.EACCES, E.E2BIG, E.ERANGE, E.EFAULT, E.ENOTSUP, 524}  # 524: ENOTSUPP


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


def _prog_load(program: Program, insns_b: bytes, log_level: int, log_size: int, fds: list[int]):
    """One BPF_PROG_LOAD. Returns (fd or -errno, log text, log_true_size)."""
    insn_buf = ctypes.create_string_buffer(insns_b, len(insns_b))
    lic = ctypes.create_string_buffer(program.license.encode() + b"\0")
    log = ctypes.create_string_buffer(log_size) if log_level else None
    fd_array = (ctypes.c_int * max(len(fds), 1))(*fds)
    attr = sc.new_attr()
    sc.pack(attr, "<IIQQIIQII", 0, program.prog_type, len(insns_b) // 8, sc.addr(insn_buf), sc.addr(lic),
            log_level, log_size if log_level else 0, sc.addr(log), 0, program.prog_flags)
    name = "".join(c if (c.isalnum() or c == "_") else "_" for c in program.name)[:15].encode()
    ctypes.memmove(ctypes.addressof(attr) + 48, name, len(name))
    sc.pack(attr, "<I", 68, program.expected_attach_type or 0)
    if fds:
        sc.pack(attr, "<Q", 120, ctypes.addressof(fd_array))
    try:
        fd = sc.bpf(sc.BPF_PROG_LOAD, attr)
    except sc.BpfError as e:
        fd = -e.errno
    text = log.value.decode("utf-8", "replace") if log is not None else ""
    (true_size,) = struct.unpack_from("<I", attr, 140)
    return fd, text, true_size


def load(program: Program, log_level: int = 2, repeat: int = 1) -> Result:
    """Verify ``program`` with the running kernel. Never raises for a bad program."""
    verifier = kernel_name()
    res = Result(program_id=program.id, verifier=verifier, verdict=ERROR, log_level=log_level)
    t0 = time.perf_counter()
    if program.attach_to:
        res.message = f"kernel_loader cannot resolve attach target {program.attach_to!r} yet (BTF attach ids)"
        return res
    try:
        insns = decode(program.insns)
    except ValueError as e:
        res.message = f"malformed program: {e}"
        return res
    level = log_level | LOG_STATS
    try:
        with created_maps(program.maps) as fds:
            try:
                insns_b = encode(patch_map_fds(insns, fds))
            except ValueError as e:
                res.message = f"malformed program: {e}"
                return res
            times: list[float] = []
            for rep in range(max(1, repeat)):
                size = INITIAL_LOG_SIZE
                while True:
                    fd, text, true_size = _prog_load(program, insns_b, level, size, fds)
                    if fd == -E.ENOSPC and true_size > size and size < MAX_LOG_SIZE:
                        size = min(true_size + 1, MAX_LOG_SIZE)
                        continue
                    break
                if fd >= 0:
                    sc.close(fd)
                stats = parse_log_stats(text)
                if "verification_time_us" in stats:
                    times.append(float(stats["verification_time_us"]))
                if rep == 0:
                    first_fd, first_text, first_stats = fd, text, stats
                elif (fd >= 0) != (first_fd >= 0):
                    res.message = f"kernel verdict changed between repetitions (rep {rep}: {fd})"
                    res.log = first_text
                    return res
    except MapCreateError as e:
        res.errno = e.errno
        res.message = str(e)
        return res
    except sc.BpfError as e:  # bpf() itself unusable
        res.errno = e.errno
        res.message = f"bpf() failed: {e.strerror}"
        return res
    res.log = first_text
    res.verify_us = times
    res.wall_us = (time.perf_counter() - t0) * 1e6
    for k in ("insns_processed", "max_states_per_insn", "total_states", "peak_states", "mark_read", "stack_depth"):
        if k in first_stats:
            setattr(res, k, first_stats[k])
    if first_fd >= 0:
        res.verdict = ACCEPT
        return res
    err = -first_fd
    res.errno = err
    if err in _REJECT_ERRNOS:
        res.verdict = REJECT
        res.message = rejection_message(first_text) or f"rejected with {E.errorcode.get(err, err)} and no log"
    else:
        res.message = (
            f"load not attempted: {E.errorcode.get(err, str(err))} ({os.strerror(err)})"
            + (f"; log: {rejection_message(first_text)}" if first_text.strip() else "")
        )
    return res
