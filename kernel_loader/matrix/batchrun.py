"""``verify_batch``: a list of Programs through another kernel's verifier, in one QEMU boot.

What ``kernel_loader.load`` decides before any bpf() call it decides here too, with the same
messages and stages: a malformed record, an attach target (resolved against the *guest* kernel's
BTF, unpacked from its image), an ext or struct_ops program. The rest go into one batch; the guest's
records become Results through ``kernel_loader.outcome.apply_outcome``, the host loader's verdict
rules. When the guest stops early (a kernel crash, a timeout), the program it was verifying gets an
error row with the console's tail and the rest go into another boot; when its output region fills
up, the rest go into another boot. Every program gets exactly one Result.
"""
from __future__ import annotations

import dataclasses

import os
from dataclasses import dataclass, field

from pyverifier.insn import decode
from pyverifier.program import Program
from pyverifier.result import ERROR, Result, parse_log_stats

from .. import syscall as sc
from ..btf import BtfLoadError
from ..loader import LOG_STATS, attach_btf_id_of, patch_map_fds
from ..maps import MapCreateError
from ..outcome import STAGE_ATTACH_TARGET, STAGE_MAPS, STAGE_PROGRAM, STAGE_VERIFIER, apply_outcome, repetition_changed
from ..vmlinux import BTF_ATTACHED_PROG_TYPES, AttachTargetError, resolve_attach_btf_id
from . import batch, initramfs, output, qemu
from .kernels import CachedKernel, KernelUnavailable, fetch
from .loaderbin import LoaderUnavailable, ensure_loader

GUEST_LOG_LEVEL = 4  # what guests load at unless asked: BPF_LOG_STATS alone, as veristat does
GUEST_LOG_LEVELS = (1, 2, 4)
MAX_CRASH_REBOOTS = 8  # guest stops early this often in one batch before the rest become error rows
BASE_TIMEOUT_S = 90.0
PER_PROGRAM_TIMEOUT_S = 3.0


@dataclass
class BatchStats:
    """How a ``verify_batch`` call went (for benchmarks and the run's metadata)."""

    boots: int = 0
    boot_seconds: list[float] = field(default_factory=list)
    release: str | None = None
    output_bytes: int = 0


def guest_attach_btf_id(program: Program, btf_path: str) -> int:
    """``attach_btf_id_of`` with the guest kernel's BTF instead of the running kernel's."""
    if program.prog_type in BTF_ATTACHED_PROG_TYPES and program.attach_to:
        return resolve_attach_btf_id(program.attach_to, program.expected_attach_type, path=btf_path)
    return attach_btf_id_of(program)  # 0, or the refusal of ext/struct_ops programs


def guest_kfuncs(program: Program, btf_path: str, res: Result) -> Program | None:
    """``program`` with its kfunc calls' BTF ids (the host kernel's) changed to the guest kernel's,
    found by name; None after filling ``res`` when the guest kernel has no such function."""
    from pyverifier.insn import encode as encode_insns

    from ..vmlinux import func_id, func_name

    insns = decode(program.insns)
    if not any(i.code == 0x85 and i.src == 2 for i in insns):
        return program
    out = []
    for ins in insns:
        if ins.code == 0x85 and ins.src == 2:
            name = func_name(ins.imm)
            gid = func_id(name, btf_path) if name else None
            if gid is None:
                res.stage = STAGE_ATTACH_TARGET
                res.message = (f"load not attempted: kfunc {name or f'with BTF id {ins.imm}'} "
                               f"is not a function of this kernel's BTF")
                return None
            ins = ins._replace(imm=gid)
        out.append(ins)
    return dataclasses.replace(program, insns=encode_insns(out))


def prepare(program: Program, btf_path: str, res: Result) -> int | None:
    """The attach_btf_id to send, or None after filling ``res`` with why the program cannot be sent.

    The same checks, messages and stages as kernel_loader.load before its first bpf() call.
    """
    try:
        decode(program.insns)
    except ValueError as e:
        res.stage, res.message = STAGE_PROGRAM, f"malformed program: {e}"
        return None
    try:
        btf_id = guest_attach_btf_id(program, btf_path)
    except AttachTargetError as e:
        res.stage, res.message = STAGE_ATTACH_TARGET, f"load not attempted: {e}"
        return None
    res.attach_btf_id = btf_id or None
    return btf_id


def result_from_raw(program: Program, raw: output.RawResult, res: Result) -> Result:
    """Fill ``res`` (verifier, log level, attach id already set) from one guest record."""
    res.wall_us = raw.wall_ns / 1000.0
    err = -raw.ret
    if raw.status in (output.MAP_FAILED, output.MAP_BTF_FAILED):
        res.errno, res.stage = err, STAGE_MAPS
        if not 0 <= raw.detail < len(program.maps):
            res.message = f"the guest reports map #{raw.detail}, but the program has {len(program.maps)} maps"
            return res
        spec, bpf_err = program.maps[raw.detail], sc.BpfError(err, os.strerror(err))
        if raw.status == output.MAP_BTF_FAILED:
            e = BtfLoadError(bpf_err, raw.log)
            res.message = str(MapCreateError(spec, raw.detail, sc.BpfError(e.errno, e.strerror),
                                             f"its BTF was refused: {e}"))
            res.log = raw.log
        else:
            res.message = str(MapCreateError(spec, raw.detail, bpf_err))
        return res
    if raw.status == output.PROG_BTF_FAILED:  # as kernel_loader.load reports a refused program BTF
        res.errno, res.stage = err, STAGE_PROGRAM
        e = BtfLoadError(sc.BpfError(err, os.strerror(err)), raw.log)
        res.message = f"program BTF refused by the kernel: {e}"
        return res
    if raw.status == output.BAD_MAP_REF:
        res.stage = STAGE_PROGRAM
        try:
            patch_map_fds(decode(program.insns), list(range(len(program.maps))))
            res.message = f"malformed program: the guest refused the map reference of insn {raw.detail}"
        except ValueError as e:
            res.message = f"malformed program: {e}"
        return res
    if raw.status == output.NO_MEMORY:
        res.message = f"the guest could not allocate a {raw.detail}-byte verifier log buffer"
        return res
    if raw.status != output.LOADED:
        res.message = f"the guest reports an unknown status {raw.status}"
        return res
    if raw.info is not None:
        res.verified_insns, res.xlated_prog_len, res.jited_prog_len = raw.info
    if raw.reps is None:  # a RESULT record: one load, its time in its log
        vtime = parse_log_stats(raw.log).get("verification_time_us")
        times = [float(vtime)] if vtime is not None else []
    else:  # every load's time, read by the guest from each load's log; the verdict must not change
        first_ok = raw.ret >= 0
        for rep, (ret, _) in enumerate(raw.reps[1:], start=1):
            if (ret >= 0) != first_ok:  # as kernel_loader.load_here reports it
                res.stage, res.message = STAGE_VERIFIER, repetition_changed(rep, ret)
                res.log = raw.log
                return res
        times = [float(t) for _, t in raw.reps if t is not None]
    apply_outcome(res, raw.ret, raw.log)
    if times:
        res.verify_us = times
    if raw.log_cut:
        res.log = (f"[verifier-diff: the first {raw.log_cut} of the log's {raw.log_total} bytes did not fit in the "
                   f"guest's output region]\n" + res.log)
    return res


def _error(program: Program, verifier: str, message: str, log_level: int, log: str = "") -> Result:
    return Result(program_id=program.id, verifier=verifier, verdict=ERROR, message=message, log=log,
                  log_level=log_level)


def verify_batch(version: str, programs: list[Program], log_level: int = GUEST_LOG_LEVEL, timeout: float | None = None,
                 stats: BatchStats | None = None, out_size: int = qemu.DEFAULT_OUT_SIZE,
                 repeat: int = 1) -> list[Result]:
    """Verify ``programs`` with Debian's kernel ``version`` (``"6.1"``, ``"6.12"``) booted under QEMU.

    Returns one Result per program, in order; ``Result.verifier`` is ``kernel-<release>`` as the
    booted kernel's uname reports it. Never raises for a bad program or a failed boot: those are
    error rows saying why. ``timeout`` bounds one boot (default: 90 s + 3 s a program and repetition);
    ``out_size`` is the guest's output region (a power of two; a batch whose logs do not fit takes
    several boots). ``repeat``: loads of each program, each one's ``verification time`` in
    ``Result.verify_us`` (the log, statistics and info are the first load's), as ``kernel_loader.load``
    does on the host.

    ``log_level``: 4 (the default) loads with BPF_LOG_STATS alone, like veristat: the log holds the
    verifier's messages (the rejection reason and what it prints before it) and the statistics, but
    no per-instruction trace, so verdicts, messages and statistics are those of a full log at a
    fraction of the guest's time (formatting the trace is most of it under TCG). 1 or 2 asks for the
    full log at that level (the statistics flag is added). ``Result.log_level`` is the level used.
    """
    if log_level not in GUEST_LOG_LEVELS:
        raise ValueError(f"guest log level must be one of {GUEST_LOG_LEVELS}, not {log_level}")
    if not 1 <= repeat <= batch.MAX_REPEAT:
        raise ValueError(f"repeat must be between 1 and {batch.MAX_REPEAT}, not {repeat}")
    stats = stats if stats is not None else BatchStats()
    if not programs:
        return []
    results: list[Result | None] = [None] * len(programs)
    try:
        kernel: CachedKernel = fetch(version)
        loader = ensure_loader().read_bytes()
        qemu.qemu_binary()
    except (KernelUnavailable, LoaderUnavailable, qemu.QemuUnavailable) as e:
        return [_error(p, f"kernel-{version}", f"kernel {version} unavailable: {e}", log_level) for p in programs]
    verifier = f"kernel-{kernel.release}"

    pending: list[int] = []
    btf_ids: dict[int, int] = {}
    guest_programs: dict[int, Program] = {}  # with the guest kernel's kfunc ids
    for i, p in enumerate(programs):
        res = Result(program_id=p.id, verifier=verifier, verdict=ERROR, log_level=log_level)
        btf_id = prepare(p, str(kernel.btf), res)
        gp = guest_kfuncs(p, str(kernel.btf), res) if btf_id is not None else None
        if btf_id is None or gp is None:
            results[i] = res
        else:
            btf_ids[i] = btf_id
            guest_programs[i] = gp
            pending.append(i)

    crashes = 0
    while pending:
        data = batch.encode_batch([(i, guest_programs[i], btf_ids[i]) for i in pending], log_level | LOG_STATS,
                                  repeat)
        initrd = initramfs.build(loader, {"batch": data})
        limit = timeout if timeout is not None else BASE_TIMEOUT_S + PER_PROGRAM_TIMEOUT_S * len(pending) * repeat
        boot = qemu.boot(kernel.image, initrd, limit, out_size=out_size)
        stats.boots += 1
        stats.boot_seconds.append(boot.seconds)
        stats.output_bytes += boot.output.bytes_used
        out = boot.output
        if out.release:
            stats.release = out.release
            verifier = f"kernel-{out.release}"
        sent = set(pending)
        for idx, raw in out.results.items():
            if idx in sent and results[idx] is None:
                res = Result(program_id=programs[idx].id, verifier=verifier, verdict=ERROR, log_level=log_level,
                             attach_btf_id=btf_ids[idx] or None)
                results[idx] = result_from_raw(programs[idx], raw, res)
        remaining = [i for i in pending if results[i] is None]
        if not remaining:
            break
        if out.full_at is not None:  # the output region filled up: the rest in another boot
            if len(remaining) == len(pending):  # not even one record fitted
                results[remaining[0]] = _error(programs[remaining[0]], verifier,
                                               f"kernel {version}: the log does not fit in the guest's "
                                               f"{out_size >> 10} KiB output region", log_level)
                remaining = remaining[1:]
            pending = remaining
            continue
        reason = _stop_reason(boot, version)
        if out.release is None or out.fatal is not None or crashes >= MAX_CRASH_REBOOTS:
            # the loader never ran (or gave up): nothing would change in another boot
            for i in remaining:
                results[i] = _error(programs[i], verifier, reason, log_level, boot.console_tail())
            break
        crashes += 1
        first = remaining[0]  # the guest verifies in batch order: this one was in flight
        results[first] = _error(programs[first], verifier, f"{reason} while verifying this program",
                                log_level, boot.console_tail())
        pending = remaining[1:]
    return [r if r is not None else _error(programs[i], verifier, "no result (internal)", log_level)
            for i, r in enumerate(results)]


def _stop_reason(boot: qemu.Boot, version: str) -> str:
    out = boot.output
    if out.fatal:
        return f"kernel {version}: the guest loader failed: {out.fatal}"
    if boot.timed_out:
        what = "timed out" if out.release else "timed out before the loader started"
        return f"kernel {version}: the guest {what} after {boot.seconds:.1f} s"
    last = [ln for ln in boot.console.strip().splitlines() if ln.strip()]
    tail = last[-1].strip() if last else "no console output"
    if out.release is None:
        return f"kernel {version}: boot failed (qemu exit {boot.returncode}): {tail}"
    if out.garbage_at is not None:
        return f"kernel {version}: the guest's output is damaged at byte {out.garbage_at}"
    return f"kernel {version}: the guest stopped early (qemu exit {boot.returncode}): {tail}"
