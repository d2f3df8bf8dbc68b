"""pyverifier in a separate interpreter: the bench's way to time it under PyPy.

pyverifier is pure Python and only the standard library, so any Python 3.9+ runs it. Under
PyPy's JIT it runs several times faster than under CPython once the JIT has compiled its hot
paths, but only with JIT thresholds far lower than PyPy's defaults: the verifier runs
thousands of short, different paths, and with the defaults (loops traced after 1039
iterations, functions after 1619 calls) most of them stay interpreted. ``PYPY_JIT`` holds
the measured setting (README, "Benchmarks").

The bench's two pyverifier runners live here, with one interface (``verify(program,
log_level, budget)`` returns the ``Result``, or a string saying why there is none):
``InProcess`` verifies in this interpreter under ``time_budget`` (``SIGALRM``); ``PyWorker``
starts ``python -m compare.pyworker`` as a child process and sends it the same requests over
its stdin, and the child answers with what its own ``InProcess`` returned, over its stdout.
Both are pickles behind a 4-byte length. A child that dies is reported as an error string and
replaced, so one crash never loses the rest of a run.

This module is run by the worker's interpreter (possibly PyPy 3.9): it imports nothing but
the standard library, pyverifier and ``compare.hostfacts`` (the host facts pyverifier is given
in-process too).
"""
from __future__ import annotations

import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

# PyPy's JIT setting for pyverifier: trace a loop after 3 iterations, a function after 3 calls,
# and compile a bridge at a guard's first failure (PyPy's defaults: 1039, 1619, 200). Median
# selftest ratio at log level 0 after one warm-up pass (2026-11-24, README "Benchmarks"):
# defaults 13.6x, 20/20/5 2.1-2.5x, 10/10/2 1.47x, 5/5/2 1.19-1.33x, 3/3/1 1.06-1.07x (CPython 5.2x).
PYPY_JIT = "threshold=3,function_threshold=3,trace_eagerness=1"

_LEN = struct.Struct("<I")
_ROOT = Path(__file__).resolve().parent.parent


class BudgetExceeded(BaseException):
    """Raised by the alarm inside a pyverifier run that took too long (not an ``Exception``: verify does
    not catch it)."""


@contextmanager
def time_budget(seconds: float | None):
    """Raise ``BudgetExceeded`` in this (main) thread after ``seconds``; no limit for ``None``/0."""
    if not seconds:
        yield
        return

    def _alarm(signum, frame):  # noqa: ARG001
        raise BudgetExceeded(f"over the budget of {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class InProcess:
    """pyverifier in this interpreter (the bench's runner when no other is asked for or found, and
    what a worker runs)."""

    info = None  # described by compare.environment (this interpreter)

    def __init__(self):
        from .hostfacts import install

        install()  # the host facts a run gives pyverifier (compare.verifiers does the same)

    def verify(self, program, log_level: int, budget: float | None):
        """The ``Result``, or why there is none (over the budget)."""
        from pyverifier.verifier import verify

        try:
            with time_budget(budget):
                return verify(program, log_level=log_level)
        except BudgetExceeded as e:
            return f"pyverifier {e}"

    def close(self) -> None:
        pass


class WorkerError(Exception):
    """The worker interpreter could not be started or does not speak the protocol."""


def _send(f, obj) -> None:
    data = pickle.dumps(obj, protocol=4)
    f.write(_LEN.pack(len(data)))
    f.write(data)
    f.flush()


def _recv(f):
    head = f.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError("worker closed its pipe")
    (n,) = _LEN.unpack(head)
    data = f.read(n)
    if len(data) < n:
        raise EOFError("worker closed its pipe mid-message")
    return pickle.loads(data)


def find_pypy() -> str | None:
    """The ``pypy3`` on PATH, or None."""
    return shutil.which("pypy3")


def interpreter_command(python: str) -> list[str]:
    """The command line that runs the worker under ``python`` (PyPy gets ``PYPY_JIT``)."""
    cmd = [python]
    if "pypy" in Path(python).name:
        cmd += ["--jit", PYPY_JIT]
    return cmd + ["-m", "compare.pyworker"]


class PyWorker:
    """One long-lived child interpreter that verifies programs with pyverifier."""

    def __init__(self, python: str):
        self.python = python
        self.cmd = interpreter_command(python)
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         cwd=str(_ROOT), env=env)
        except OSError as e:
            raise WorkerError(f"cannot start {' '.join(self.cmd)}: {e}") from e
        try:
            self.info = self._ask(("hello",))
            self.info["command"] = " ".join(self.cmd)
        except (EOFError, OSError, pickle.UnpicklingError) as e:
            self.close()
            raise WorkerError(f"{' '.join(self.cmd)} did not answer: {e}") from e

    def _ask(self, req):
        _send(self.proc.stdin, req)
        return _recv(self.proc.stdout)

    def verify(self, program, log_level: int, budget: float | None):
        """pyverifier's ``Result`` for ``program``, or a string saying why there is none
        (over the budget, or the worker died: it is restarted for the next request)."""
        try:
            return self._ask(("verify", program, log_level, budget))
        except (EOFError, OSError, pickle.UnpicklingError) as e:
            code = self.proc.poll() if self.proc else None
            self.close()
            self.restarts += 1
            self._start()
            return f"pyverifier worker died ({e}; exit code {code}); restarted"

    def close(self) -> None:
        p = self.proc
        if p is None:
            return
        self.proc = None
        try:
            if p.poll() is None:
                _send(p.stdin, ("bye",))
                p.wait(5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            p.kill()
            p.wait(5)
        finally:
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve(inp, out) -> None:
    import platform

    runner = InProcess()
    while True:
        try:
            req = _recv(inp)
        except EOFError:
            return
        if req[0] == "bye":
            return
        if req[0] == "hello":
            _send(out, {"implementation": platform.python_implementation(),
                        "version": platform.python_version(),
                        "build": " ".join(sys.version.split()),
                        "executable": sys.executable})
            continue
        _, program, log_level, budget = req
        _send(out, runner.verify(program, log_level, budget))


def main() -> None:
    # the protocol owns the real stdout; anything printed goes to stderr
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
