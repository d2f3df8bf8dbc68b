"""What the guest's loader writes into the shared-memory region, and reading it back.

The region starts zeroed. The guest appends records::

    "VDR" kind  u32 payload_length  payload  "VDE" kind

and writes the leading "VDR" last, so a record cut short by a crash or a kill is never taken for a
complete one. Reading stops at the first position that does not hold a complete record.

Kinds and payloads (little-endian):
  HELLO   u32 program_count  u32 release_length  release (the guest kernel's uname -r)
  RESULT  u32 index  u32 status  i32 ret  u32 detail  u64 wall_ns  u32 log_total  u32 log_length
          u32 info_ok  u32 verified_insns  u32 xlated_prog_len  u32 jited_prog_len  log
          status LOADED: BPF_PROG_LOAD ran, ret is the fd (>= 0) or -errno; info_ok: bpf_prog_info was read;
          status MAP_FAILED: map #detail could not be created, initialised or frozen, ret is -errno;
          status NO_MEMORY: the guest could not allocate a log buffer of detail bytes;
          status MAP_BTF_FAILED: the BTF of map #detail was refused, ret is -errno, the log is the BTF log;
          status BAD_MAP_REF: instruction #detail refers to a map the program does not have;
          status PROG_BTF_FAILED: the program's own BTF was refused, ret is -errno, the log is the BTF log;
          log_length < log_total: a log too large for the whole region, of which only the end is sent
  TIMED_RESULT  the RESULT fields up to jited_prog_len, then u32 rep_count and rep_count times
          (i32 ret, u32 has_time, u64 verification_time_us), then the log: every load of a repeated
          program (``batch.py``'s repeat count) with the ``verification time`` the guest read from its
          log, the first being the load that ret, the info and the log belong to. The loads stop at the
          first whose verdict (fd or not) differs from the first's. rep_count is 0 when no load ran
          (status other than LOADED). The guest writes this kind; RESULT (the previous version, one load,
          the time read from the log here) is still read.
  DONE    u32 programs_attempted
  FULL    u32 index of the first program whose record did not fit (the region is full)
  FATAL   a message: the loader could not go on
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

HELLO, RESULT, DONE, FULL, FATAL, TIMED_RESULT = 1, 2, 3, 4, 5, 6
LOADED, MAP_FAILED, NO_MEMORY, MAP_BTF_FAILED, BAD_MAP_REF, PROG_BTF_FAILED = 0, 1, 2, 3, 4, 5

_FRAME = struct.Struct("<3sBI")
_RESULT = struct.Struct("<IIiIQIIIIII")
_REP = struct.Struct("<iIQ")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class RawResult:
    """One program's outcome inside the guest, before any verdict is decided."""

    index: int
    status: int
    ret: int  # fd >= 0, or -errno
    detail: int  # MAP_FAILED: the map's index; NO_MEMORY: the log buffer size asked for
    wall_ns: int
    log_total: int  # the log's full length in bytes; more than len(log) when only its end was sent
    log: str
    log_cut: int = 0  # bytes missing from the start of ``log`` (0: it is complete)
    info: tuple[int, int, int] | None = None  # bpf_prog_info: (verified_insns, xlated_prog_len, jited_prog_len)
    # every load's (ret, verification time in usec or None), the first being this record's; None for a
    # RESULT record (one load, its time to be read from ``log``)
    reps: tuple[tuple[int, int | None], ...] | None = None


@dataclass
class GuestOutput:
    release: str | None = None
    count: int | None = None
    results: dict[int, RawResult] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # indices in the order the guest reported them
    done: int | None = None  # DONE's count: the guest finished (possibly early, see ``full_at``)
    full_at: int | None = None
    fatal: str | None = None
    bytes_used: int = 0
    garbage_at: int | None = None  # offset of a malformed record, if one was found


def frame(kind: int, payload: bytes) -> bytes:
    """One record, as the guest writes it (used by tests and by nothing on the hot path)."""
    return _FRAME.pack(b"VDR", kind, len(payload)) + payload + b"VDE" + bytes([kind])


def hello(count: int, release: str) -> bytes:
    r = release.encode()
    return frame(HELLO, _U32.pack(count) + _U32.pack(len(r)) + r)


def result(raw: RawResult) -> bytes:
    """A TIMED_RESULT record when ``raw.reps`` is set, else a RESULT record."""
    log = raw.log.encode()
    info = raw.info or (0, 0, 0)
    head = _RESULT.pack(raw.index, raw.status, raw.ret, raw.detail, raw.wall_ns, raw.log_total, len(log),
                        int(raw.info is not None), *info)
    if raw.reps is None:
        return frame(RESULT, head + log)
    reps = b"".join(_REP.pack(ret, t is not None, t or 0) for ret, t in raw.reps)
    return frame(TIMED_RESULT, head + _U32.pack(len(raw.reps)) + reps + log)


def done(n: int) -> bytes:
    return frame(DONE, _U32.pack(n))


def full(index: int) -> bytes:
    return frame(FULL, _U32.pack(index))


def fatal(message: str) -> bytes:
    return frame(FATAL, message.encode())


def parse(region: bytes | memoryview) -> GuestOutput:
    """Every complete record at the start of ``region``; never raises on damaged input."""
    out = GuestOutput()
    mv = memoryview(region)
    pos, end = 0, len(mv)
    while pos + _FRAME.size <= end:
        magic, kind, length = _FRAME.unpack_from(mv, pos)
        if magic != b"VDR":
            if any(mv[pos:pos + _FRAME.size]):
                out.garbage_at = pos
            break
        body = pos + _FRAME.size
        tail = body + length
        if tail + 4 > end or bytes(mv[tail:tail + 4]) != b"VDE" + bytes([kind]):
            out.garbage_at = pos
            break
        payload = bytes(mv[body:tail])
        try:
            _apply(out, kind, payload)
        except (struct.error, ValueError):
            out.garbage_at = pos
            break
        pos = tail + 4
    out.bytes_used = pos
    return out


def _apply(out: GuestOutput, kind: int, payload: bytes) -> None:
    if kind == HELLO:
        count, rlen = struct.unpack_from("<II", payload)
        out.count = count
        out.release = payload[8:8 + rlen].decode("utf-8", "replace")
    elif kind in (RESULT, TIMED_RESULT):
        (index, status, ret, detail, wall_ns, log_total, log_len, info_ok, verified, xlated,
         jited) = _RESULT.unpack_from(payload)
        at, reps = _RESULT.size, None
        if kind == TIMED_RESULT:
            (n,) = _U32.unpack_from(payload, at)
            at += _U32.size
            if at + n * _REP.size > len(payload):
                raise ValueError("timed result shorter than its repetitions")
            reps = tuple((r, t if has else None) for r, has, t in _REP.iter_unpack(payload[at:at + n * _REP.size]))
            at += n * _REP.size
            if reps and reps[0][0] != ret:
                raise ValueError("the first repetition is not the record's load")
        if at + log_len != len(payload) or log_len > log_total:
            raise ValueError("result log length does not match its record")
        log = payload[at:].decode("utf-8", "replace")
        out.results[index] = RawResult(index, status, ret, detail, wall_ns, log_total, log, log_total - log_len,
                                       (verified, xlated, jited) if info_ok else None, reps)
        out.order.append(index)
    elif kind == DONE:
        (out.done,) = _U32.unpack_from(payload)
    elif kind == FULL:
        (out.full_at,) = _U32.unpack_from(payload)
    elif kind == FATAL:
        out.fatal = payload.decode("utf-8", "replace")
    else:
        raise ValueError(f"unknown record kind {kind}")
