"""A pool of long-lived worker processes with a timeout per task.

``concurrent.futures`` cannot stop one stuck task; here each worker owns a
pipe, the parent waits on all pipes at once, and a worker that exceeds its
task's timeout (or dies) is killed and replaced. The task's outcome is then
an ``TaskFailure`` so the run goes on.
"""
from __future__ import annotations

import multiprocessing as mp
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator


@dataclass
class TaskFailure:
    reason: str  # "timeout after 60s", "worker died (signal 11)", "exception: ..."


def _worker_main(conn: Connection, fn: Callable[[Any], Any]) -> None:
    while True:
        try:
            item = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if item is None:
            return
        key, arg = item
        try:
            out = fn(arg)
        except BaseException as e:  # noqa: BLE001 - every failure becomes a row
            out = TaskFailure(f"exception: {type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}")
        try:
            conn.send((key, out))
        except BaseException as e:  # unpicklable result
            conn.send((key, TaskFailure(f"result could not be sent: {e}")))


class _Worker:
    def __init__(self, ctx, fn):
        self.parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, fn), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[Any, Any] | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        try:
            self.proc.kill()
        finally:
            self.proc.join(5)
            self.parent.close()


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Iterable[tuple[Any, Any]],
    jobs: int = 1,
    timeout: float = 120.0,
) -> Iterator[tuple[Any, Any]]:
    """Yield (key, result or TaskFailure) for every (key, arg) task, in completion order.

    ``fn`` must be a module-level function (it runs in a forked worker).
    """
    ctx = mp.get_context("fork")
    pending = list(tasks)
    pending.reverse()
    workers = [_Worker(ctx, fn) for _ in range(max(1, min(jobs, len(pending) or 1)))]
    try:
        while True:
            for w in workers:
                if w.task is None and pending:
                    w.task = pending.pop()
                    w.deadline = time.monotonic() + timeout
                    w.parent.send(w.task)
            busy = [w for w in workers if w.task is not None]
            if not busy:
                return
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.parent for w in busy], timeout=wait_for)
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                if w.parent in ready:
                    try:
                        key, out = w.parent.recv()
                    except (EOFError, OSError):
                        code = w.proc.exitcode
                        key, out = w.task[0], TaskFailure(f"worker died (exit code {code})")
                        w.kill()
                        workers[i] = _Worker(ctx, fn)
                        yield key, out
                        continue
                    w.task = None
                    yield key, out
                elif time.monotonic() >= w.deadline:
                    key = w.task[0]
                    w.kill()
                    workers[i] = _Worker(ctx, fn)
                    yield key, TaskFailure(f"timeout after {timeout:g} s")
    finally:
        for w in workers:
            try:
                w.parent.send(None)
            except OSError:
                pass
        for w in workers:
            w.proc.join(1)
            if w.proc.is_alive():
                w.kill()
