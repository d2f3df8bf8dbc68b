"""From what ``BPF_PROG_LOAD`` returned (an fd or -errno, and the log) to a verdict, a stage and a message.

The rules (docs/ARCHITECTURE.md, "Verdict rules of the kernel loader"):

* an fd: ``accept``, stage ``verifier``;
* EPERM with verifier output (a rule for unprivileged programs, such as
  "loading/calling other bpf or kernel functions are allowed for CAP_BPF"):
  ``reject``, stage ``verifier``;
* EPERM with an empty log: ``error``; stage ``permission`` when the loader
  lacks CAP_BPF (an unprivileged load, ``kernel.unprivileged_bpf_disabled``),
  stage ``load`` when it holds it (the kernel refuses this kind of program
  here: on the 6.18 test machine, fentry/fexit/fmod_ret and LSM programs);
* a refusal with verifier output in the log (EINVAL, EACCES, E2BIG, ERANGE,
  EFAULT, ENOTSUPP, ...): ``reject``, stage ``verifier``;
* a refusal with an empty log and EINVAL, EACCES, E2BIG, ERANGE or EFAULT:
  ``reject``, stage ``load``: the kernel refused the program's attributes
  (flags, attach type, size) before its verifier ran;
* ENOTSUPP/EOPNOTSUPP with an empty log, and any other errno (ENOMEM, EBUSY,
  ...): ``error``, stage ``load``: the kernel could not load the program here,
  so there is no verdict.

Stages decided by the tool before any ``BPF_PROG_LOAD`` are ``program`` (the
record cannot be sent as it is), ``attach_target`` (the named target is not in
the kernel's BTF), ``maps`` (a map or its BTF could not be created).
"""
from __future__ import annotations

import errno as E
import os

from pyverifier import uapi
from pyverifier.program import Program
from pyverifier.result import ACCEPT, ERROR, REJECT, Result, parse_log_stats, rejection_message

ENOTSUPP = 524  # the kernel-internal "not supported" errno that bpf() can return

STAGE_PROGRAM = "program"
STAGE_ATTACH_TARGET = "attach_target"
STAGE_MAPS = "maps"
STAGE_PERMISSION = "permission"
STAGE_LOAD = "load"
STAGE_VERIFIER = "verifier"
STAGES = (STAGE_PROGRAM, STAGE_ATTACH_TARGET, STAGE_MAPS, STAGE_PERMISSION, STAGE_LOAD, STAGE_VERIFIER)

# errnos with which the kernel refuses a program (or its attributes) it examined
REJECT_ERRNOS = frozenset((E.EINVAL, E.EACCES, E.E2BIG, E.ERANGE, E.EFAULT, E.ENOTSUP, ENOTSUPP))
_UNSUPPORTED = frozenset((E.ENOTSUP, ENOTSUPP))

STAT_FIELDS = ("insns_processed", "max_states_per_insn", "total_states", "peak_states", "mark_read", "stack_depth")


def repetition_changed(rep: int, ret: int) -> str:
    """The error of a program whose verdict (an fd or not) differs at repetition ``rep`` (0-based) from the first."""
    return f"kernel verdict changed between repetitions (rep {rep}: {ret})"


def errno_name(err: int) -> str:
    if err == ENOTSUPP:
        return "ENOTSUPP"
    return E.errorcode.get(err, str(err))


def verifier_ran(log: str) -> bool:
    """Whether the log shows the verifier examined the program (it printed anything at all)."""
    return bool(log.strip())


def _what(program: Program | None) -> str:
    if program is None:
        return "this program"
    what = f"{uapi.prog_type_name(program.prog_type)} programs"
    if program.expected_attach_type is not None:
        what += f" with attach type {uapi.attach_type_name(program.expected_attach_type)}"
    return what


def apply_outcome(res: Result, ret: int, log: str, caps_held: bool = False, program: Program | None = None) -> Result:
    """Set ``res``'s verdict, stage, errno, message, log and statistics from one ``BPF_PROG_LOAD``.

    ``caps_held``: the loader held CAP_BPF/CAP_SYS_ADMIN, so an EPERM is the
    kernel's refusal of this kind of program (stage ``load``), not a missing
    permission (stage ``permission``).
    """
    res.log = log
    stats = parse_log_stats(log)
    for k in STAT_FIELDS:
        if k in stats:
            setattr(res, k, stats[k])
    if ret >= 0:
        res.verdict = ACCEPT
        res.stage = STAGE_VERIFIER
        return res
    err = -ret
    res.errno = err
    ran = verifier_ran(log)
    reason = rejection_message(log) if ran else ""
    if err == E.EPERM and not ran:
        res.verdict = ERROR
        if caps_held:
            res.stage = STAGE_LOAD
            res.message = ("load not attempted: EPERM before the verifier ran although the loader holds "
                           f"CAP_BPF/CAP_SYS_ADMIN: the kernel does not allow {_what(program)} here")
        else:
            res.stage = STAGE_PERMISSION
            res.message = "load not attempted: EPERM: not permitted to load this program without CAP_BPF"
        if reason:
            res.message += f"; log: {reason}"
    elif (err in REJECT_ERRNOS and (ran or err not in _UNSUPPORTED)) or (err == E.EPERM and ran):
        res.verdict = REJECT
        res.stage = STAGE_VERIFIER if ran else STAGE_LOAD
        res.message = reason or f"rejected with {errno_name(err)} before the verifier ran (no log)"
    else:
        res.verdict = ERROR
        res.stage = STAGE_LOAD
        what = ("the kernel cannot load this kind of program here" if err in _UNSUPPORTED
                else os.strerror(err) if err != ENOTSUPP else "not supported")
        res.message = f"load not attempted: {errno_name(err)} ({what})" + (f"; log: {reason}" if reason else "")
    return res
