"""The verifiers a run can use, by short name, each a function Program -> Result."""
from __future__ import annotations

import time
import traceback
from typing import Callable

import kernel_loader
import pyverifier
from kernel_loader.loader import LOG_STATS
from pyverifier.program import Program
from pyverifier.result import ERROR, Result
from pyverifier.verifier import verify

from . import hostfacts

# pyverifier does no I/O: the host facts its rules depend on (nr_cpu_ids, the kernel's BTF)
# are handed to it here
hostfacts.install()

# Both verifiers are imported here, before the runner forks its workers, so that no
# repetition's timing includes importing a module.

VerifyFn = Callable[[Program, int, int], Result]


def _kernel(program: Program, log_level: int, repeat: int) -> Result:
    return kernel_loader.load(program, log_level=log_level, repeat=repeat)


def _pyverifier(program: Program, log_level: int, repeat: int) -> Result:
    first: Result | None = None
    times: list[float] = []
    t0 = time.perf_counter()
    for _ in range(max(1, repeat)):
        try:
            # the kernel loader always adds the statistics flag (4); so does this side
            r = verify(program, log_level=log_level | LOG_STATS)
        except Exception as e:  # noqa: BLE001 - a crash is a row, not a lost run
            return Result(
                program_id=program.id,
                verifier=pyverifier.VERIFIER_NAME,
                verdict=ERROR,
                message=f"pyverifier crashed: {type(e).__name__}: {e}",
                log=traceback.format_exc(),
                log_level=log_level,
            )
        if first is None:
            first = r
        times.extend(r.verify_us)
    assert first is not None
    first.verify_us = times
    first.log_level = log_level
    first.wall_us = (time.perf_counter() - t0) * 1e6
    return first


def _kernel_unpriv(program: Program, log_level: int, repeat: int) -> Result:
    """The running kernel, loading without CAP_BPF/CAP_SYS_ADMIN/CAP_PERFMON/CAP_NET_ADMIN (a forked child)."""
    return kernel_loader.load(program, log_level=log_level, repeat=repeat, privileged=False)


VERIFIERS: dict[str, VerifyFn] = {"kernel": _kernel, "pyverifier": _pyverifier, "kernel_unpriv": _kernel_unpriv}

# "kernel-6.1", "kernel-6.12": a Debian kernel booted under QEMU (kernel_loader.matrix), one boot per batch
MATRIX_PREFIX = "kernel-"


def matrix_series(kind: str) -> str | None:
    """The kernel series of a matrix verifier kind ("kernel-6.1" -> "6.1"), None for other kinds."""
    return kind[len(MATRIX_PREFIX):] if kind.startswith(MATRIX_PREFIX) else None


def warm_up() -> None:
    """Verify a few tiny programs once, so modules pyverifier imports lazily are loaded before workers fork.

    Otherwise the first timed verification in every worker pays for those imports.
    """
    from selftests.corpus import load_corpus

    programs, _ = load_corpus("builtin")
    for p in programs[:20]:
        try:
            verify(p, log_level=2 | LOG_STATS)
        except Exception:  # noqa: BLE001 - warming only; the real run reports failures
            pass


def verifier_label(kind: str) -> str:
    series = matrix_series(kind)
    if series is not None:
        from kernel_loader.matrix.kernels import cached

        k = cached(series)
        return f"kernel-{k.release}" if k else kind
    if kind == "kernel":
        return kernel_loader.kernel_name()
    if kind == "kernel_unpriv":
        return kernel_loader.kernel_name() + "-unpriv"
    if kind == "pyverifier":
        return pyverifier.VERIFIER_NAME
    raise KeyError(kind)
