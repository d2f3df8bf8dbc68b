"""compare.pyworker: pyverifier in a child interpreter (PyPy for the bench) gives what it gives in-process."""
from __future__ import annotations

import json
import os
import sys

import pytest

from compare import bench
from compare.pyworker import PYPY_JIT, InProcess, PyWorker, WorkerError, find_pypy, interpreter_command
from pyverifier.verifier import verify
from selftests.corpus import load_corpus

PYPY = find_pypy()
needs_pypy = pytest.mark.skipif(PYPY is None, reason="pypy3 is not installed (scripts/setup.sh installs it)")


def _same(a, b) -> bool:
    keys = ("verdict", "errno", "message", "log", "insns_processed", "total_states", "peak_states",
            "max_states_per_insn", "stack_depth", "program_id")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _builtin(n: int | None = None):
    progs, errors = load_corpus("builtin")
    assert not errors
    return progs if n is None else progs[:n]


def test_interpreter_command():
    assert interpreter_command("/usr/bin/pypy3") == ["/usr/bin/pypy3", "--jit", PYPY_JIT, "-m", "compare.pyworker"]
    assert interpreter_command("/usr/bin/python3") == ["/usr/bin/python3", "-m", "compare.pyworker"]


def test_worker_under_this_python_matches_in_process():
    progs = _builtin(40)
    with PyWorker(sys.executable) as w:
        assert w.info["implementation"] == "CPython"
        for p in progs:
            got = w.verify(p, 2, None)
            assert not isinstance(got, str), got
            assert _same(got, verify(p, 2)), p.id


@needs_pypy
def test_pypy_worker_matches_in_process_on_the_builtin_corpus():
    """Every built-in program, at log levels 2 and 0: the same verdict, message, log and statistics."""
    with PyWorker(PYPY) as w:
        assert w.info["implementation"] == "PyPy"
        assert PYPY_JIT in w.info["command"]
        for p in _builtin():
            for level in (2, 0):
                got = w.verify(p, level, 60)
                assert not isinstance(got, str), (p.id, got)
                assert _same(got, verify(p, level)), (p.id, level)
        assert w.restarts == 0


def test_budget_and_a_dead_worker():
    p = _builtin(1)[0]
    with PyWorker(sys.executable) as w:
        assert w.verify(p, 0, 1e-6) == "pyverifier over the budget of 1e-06 s"
        assert not isinstance(w.verify(p, 0, None), str)  # the alarm left nothing behind
        w.proc.kill()
        w.proc.wait()
        msg = w.verify(p, 0, None)
        assert isinstance(msg, str) and msg.startswith("pyverifier worker died") and "restarted" in msg
        assert w.restarts == 1
        assert _same(w.verify(p, 2, None), verify(p, 2))  # the new worker answers


def test_a_missing_interpreter_is_a_clear_error(tmp_path):
    with pytest.raises(WorkerError, match="cannot start"):
        PyWorker(str(tmp_path / "no-such-python"))
    fake = tmp_path / "python-that-exits"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(WorkerError, match="did not answer"):
        PyWorker(str(fake))


def test_open_runner_choices():
    assert isinstance(bench.open_runner("inprocess"), InProcess)
    r = bench.open_runner(sys.executable)
    try:
        assert isinstance(r, PyWorker) and r.info["implementation"] == "CPython"
    finally:
        r.close()
    r = bench.open_runner("auto")
    try:
        assert isinstance(r, PyWorker if PYPY else InProcess)
    finally:
        r.close()


def _tiny():
    return [p for p in _builtin() if p.id in ("builtin/simple_return", "builtin/uninit_r0_exit")] or _builtin(2)


@needs_pypy
def test_bench_under_pypy_warms_up_and_says_so(tmp_path):
    args = bench.build_parser().parse_args(["--no-kernel", "--repeat", "2", "--no-micro", "--no-memory"])
    doc = json.loads(json.dumps(bench.run_bench(_tiny(), args, kernel_reason=None)))
    rt = doc["pyverifier_runtime"]
    assert rt["mode"] == "worker process" and rt["interpreter"].startswith("PyPy 3.")
    assert rt["warm_up_s"] is not None and rt["warm_up_s"] >= 0 and rt["restarts"] == 0
    assert all(len(r["pyverifier"]["times_us"]) == 2 for r in doc["programs"])
    assert all(r["pyverifier"]["warm_up_us"] > 0 for r in doc["programs"])
    text = bench.format_report(doc)
    assert "in a worker process" in text and "JIT warmed up by one unmeasured pass" in text


def test_bench_in_process_and_without_warm_up():
    args = bench.build_parser().parse_args(["--no-kernel", "--repeat", "1", "--no-micro", "--no-memory",
                                            "--python", "inprocess"])
    doc = bench.run_bench(_tiny(), args, kernel_reason=None)
    assert doc["pyverifier_runtime"]["mode"] == "in-process" and doc["pyverifier_runtime"]["warm_up_s"] is None
    assert all(r["pyverifier"]["warm_up_us"] is None for r in doc["programs"])
    assert doc["overall"]["warm_up_ratio_median"] is None
    assert "pyverifier: in-process" in bench.format_report(doc)
    args = bench.build_parser().parse_args(["--no-kernel", "--repeat", "1", "--no-micro", "--no-memory",
                                            "--python", sys.executable, "--no-warm-up"])
    doc = bench.run_bench(_tiny(), args, kernel_reason=None)
    assert doc["pyverifier_runtime"]["mode"] == "worker process"
    assert doc["pyverifier_runtime"]["warm_up_s"] is None  # not a JIT, and not asked


@pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"), reason="the running kernel has no BTF")
@pytest.mark.parametrize("python", [sys.executable, pytest.param(PYPY, marks=needs_pypy)], ids=["cpython", "pypy"])
def test_the_worker_has_the_host_facts(python):
    """The kernel's BTF (kfunc names) and nr_cpu_ids (bpf_get_smp_processor_id's range) reach the
    worker as they reach pyverifier in-process."""
    from compare import hostfacts
    from pyverifier.btf import FUNC
    from pyverifier.insn import Insn, encode
    from pyverifier.program import Program
    from selftests.btf import kernel_btf

    hostfacts.install()
    btf = kernel_btf()
    lock, unlock = btf.find("bpf_rcu_read_lock", FUNC)[0], btf.find("bpf_rcu_read_unlock", FUNC)[0]
    insns = [Insn(0x85, 0, 2, 0, lock), Insn(0x85, 0, 0, 0, 8), Insn(0x85, 0, 2, 0, unlock), Insn(0x95, 0, 0, 0, 0)]
    p = Program(id="t/facts", source="t", name="facts", prog_type=1, insns=encode(insns))
    here = verify(p, 2)
    assert "call bpf_rcu_read_lock#" in here.log and "not modelled" not in (here.message or "")
    cpus = hostfacts.possible_cpus()
    assert f"umax32={cpus - 1})" in here.log or f"umax32={cpus - 1}," in here.log or cpus == 1
    with PyWorker(python) as w:
        assert _same(w.verify(p, 2, None), here)


def test_bench_with_an_interpreter_that_does_not_work(tmp_path, capsys, monkeypatch):
    """An explicit --python that cannot run the worker is a clear error; 'auto' falls back to in-process."""
    out = tmp_path / "out"
    rc = bench.main(["--no-kernel", "--repeat", "1", "--no-micro", "--no-memory", "--filter", "simple_return",
                     "--python", str(tmp_path / "no-such-python"), "--out", str(out), "--no-html"])
    assert rc == 2
    assert "--python" in capsys.readouterr().err
    import compare.pyworker as pw

    monkeypatch.setattr(pw, "find_pypy", lambda: str(tmp_path / "broken-pypy"))
    rc = bench.main(["--no-kernel", "--repeat", "1", "--no-micro", "--no-memory", "--filter", "simple_return",
                     "--out", str(out), "--no-html", "--json"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "measuring pyverifier in-process instead" in captured.err
    assert json.loads(captured.out)["pyverifier_runtime"]["mode"] == "in-process"
