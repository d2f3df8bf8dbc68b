"""compare/: the worker pool, classification, and the runner's run directory and resume."""
from __future__ import annotations

import json
import os
import signal
import time

import pandas as pd
import pytest

from compare import classify as C
from compare import runner, verifiers
from compare.pool import TaskFailure, run_tasks
from pyverifier.insn import Insn, encode
from pyverifier.program import Program
from pyverifier.result import Result


def _square(x):
    return x * x


def _misbehave(x):
    if x == "sleep":
        time.sleep(30)
    if x == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if x == "raise":
        raise RuntimeError("boom")
    return x


def test_pool_runs_everything():
    out = dict(run_tasks(_square, [(i, i) for i in range(20)], jobs=2))
    assert out == {i: i * i for i in range(20)}


def test_pool_survives_timeout_crash_and_exception():
    tasks = [(k, k) for k in ("a", "sleep", "b", "die", "raise", "c")]
    out = dict(run_tasks(_misbehave, tasks, jobs=2, timeout=2))
    assert out["a"] == "a" and out["b"] == "b" and out["c"] == "c"
    assert isinstance(out["sleep"], TaskFailure) and "timeout" in out["sleep"].reason
    assert isinstance(out["die"], TaskFailure) and "died" in out["die"].reason
    assert isinstance(out["raise"], TaskFailure) and "RuntimeError: boom" in out["raise"].reason


@pytest.mark.parametrize(
    "k,p,km,pm,cls",
    [
        ("accept", "accept", "", "", C.BOTH_ACCEPT),
        ("accept", "reject", "", "x", C.PY_STRICTER),
        ("reject", "accept", "x", "", C.PY_PERMISSIVE),
        ("reject", "reject", "R0 !read_ok", "R0 !read_ok", C.BOTH_REJECT_SAME),
        ("reject", "reject", "R0 !read_ok", "R1 !read_ok", C.BOTH_REJECT_DIFFERENT),
        ("reject", "error", "x", "not modelled: kfuncs", C.NOT_MODELLED_CLASS),
        ("error", "accept", "EPERM", "", C.TOOL_ERROR),
        ("accept", "error", "", "pyverifier crashed", C.TOOL_ERROR),
    ],
)
def test_classify(k, p, km, pm, cls):
    assert C.classify(k, p, km, pm) == cls


def test_messages_compare_without_kernel_addresses():
    assert C.classify("reject", "reject", "R1 = 0xffff888112345678 bad", "R1 = 0xffff000000000000 bad") == C.BOTH_REJECT_SAME


def test_size_class_boundaries():
    assert [C.size_class(n) for n in (1, 99, 100, 999, 1000, 9999, 10000)] == [
        "simple", "simple", "medium", "medium", "complex", "complex", "maximum"]


# --- runner with stand-in verifiers: deterministic, no kernel needed -------------------------

def _prog(name, n_insns):
    insns = [Insn(0xB7, 0, 0, 0, 0)] * (n_insns - 1) + [Insn(0x95, 0, 0, 0, 0)]
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(insns))


CALLS: list[tuple[str, str]] = []


def _fake(kind):
    def fn(program, log_level, repeat):
        if "crash" in program.name and kind == "pyverifier":
            raise ZeroDivisionError("fake crash")
        verdict = "reject" if (program.insn_count % 2 == 0 and kind == "kernel") else "accept"
        with open(os.environ["VD_TEST_CALLS"], "a") as f:
            f.write(f"{program.id} {kind}\n")
        return Result(program_id=program.id, verifier=f"{kind}-x", verdict=verdict,
                      message="" if verdict == "accept" else "bad <script>", log=f"log of {program.id}\n",
                      insns_processed=program.insn_count, verify_us=[1.0] * repeat)
    return fn


@pytest.fixture
def fake_verifiers(monkeypatch, tmp_path):
    monkeypatch.setenv("VD_TEST_CALLS", str(tmp_path / "calls.txt"))
    monkeypatch.setitem(verifiers.VERIFIERS, "kernel", _fake("kernel"))
    monkeypatch.setitem(verifiers.VERIFIERS, "pyverifier", _fake("pyverifier"))
    monkeypatch.setattr(runner, "verifier_label", lambda k: f"{k}-x")
    return tmp_path / "calls.txt"


def test_run_writes_run_directory(tmp_path, fake_verifiers):
    progs = [_prog("a", 3), _prog("b", 4), _prog("crash", 5)]
    out = runner.run(progs, tmp_path / "run", runner.RunOptions(repeat=3, jobs=2, render=False))
    info = json.loads((out / "run.json").read_text())
    assert info["program_count"] == 3 and info["repeat"] == 3
    assert info["host"]["kernel_release"] and info["python"]
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 6
    assert set(res.columns) >= {"program_id", "verifier", "verdict", "errno", "message", "insns_processed",
                                "total_states", "peak_states", "max_states_per_insn", "mark_read", "verify_us_mean"}
    crash = res[(res.program_id == "t/crash") & (res.verifier_kind == "pyverifier")].iloc[0]
    assert crash.verdict == "error" and "ZeroDivisionError" in crash.message
    comp = pd.read_csv(out / "comparison.csv").set_index("program_id")
    assert comp.loc["t/a", "class"] == C.BOTH_ACCEPT
    assert comp.loc["t/b", "class"] == C.PY_PERMISSIVE
    assert comp.loc["t/crash", "class"] == C.TOOL_ERROR
    assert (out / "logs/kernel/t_a.log").read_text() == "log of t/a\n"
    assert pd.read_csv(out / "results.csv").shape[0] == 6


def test_run_resumes_without_rerunning_or_duplicating(tmp_path, fake_verifiers):
    progs = [_prog(f"p{i}", 3 + i) for i in range(6)]
    out = tmp_path / "run"
    runner.run(progs[:3], out, runner.RunOptions(render=False))  # different corpus: must start afresh
    # simulate a run killed part-way: the corpus file is the full one, results hold 4 of 12 pairs + a cut line
    runner.run(progs, out, runner.RunOptions(render=False))
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])
    fake_verifiers.write_text("")
    runner.run(progs, out, runner.RunOptions(render=False))
    rerun = fake_verifiers.read_text().splitlines()
    assert len(rerun) == 8  # only the missing pairs ran again
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 12
    assert not res.duplicated(["program_id", "verifier_kind"]).any()


def test_kernel_unavailable_rows_say_why(tmp_path, fake_verifiers):
    out = runner.run([_prog("a", 3)], tmp_path / "r", runner.RunOptions(render=False),
                     kernel_unavailable="bpf() is refused (EPERM): run with sudo")
    res = pd.read_parquet(out / "results.parquet").set_index("verifier_kind")
    assert res.loc["kernel", "verdict"] == "error"
    assert "run with sudo" in res.loc["kernel", "message"]
    assert res.loc["pyverifier", "verdict"] == "accept"


# --- run versus run -----------------------------------------------------------------------------

def _fake_run(path, rows):
    path.mkdir()
    pd.DataFrame(rows).to_parquet(path / "results.parquet")
    return path


def _rows(verdict_b, insns_b):
    return [
        {"program_id": "s/a", "verifier_kind": "kernel", "verifier": "kernel-x", "verdict": "accept",
         "message": "", "insns_processed": 100, "total_states": 10, "peak_states": 5, "verify_us_mean": 50.0,
         "mark_read": 0},
        {"program_id": "s/b", "verifier_kind": "kernel", "verifier": "kernel-x", "verdict": verdict_b,
         "message": "", "insns_processed": insns_b, "total_states": 3, "peak_states": 2, "verify_us_mean": 9.0,
         "mark_read": 0},
    ]


def test_diff_gates_on_verdict_regression(tmp_path, capsys):
    from compare.cli import main

    a = _fake_run(tmp_path / "a", _rows("accept", 40))
    b = _fake_run(tmp_path / "b", _rows("reject", 50))
    assert main(["diff", str(a), str(a), "--fail-on", "verdict"]) == 0
    assert main(["diff", str(a), str(b), "--fail-on", "verdict"]) == 1
    out = capsys.readouterr()
    assert "MISMATCH" in out.out and "s/b" in out.err
    assert main(["diff", str(a), str(b), "--fail-on", "insns_pct>20"]) == 1  # 40 -> 50 is +25%
    assert main(["diff", str(a), str(b), "--fail-on", "insns_pct>30"]) == 0
    csv = tmp_path / "d.csv"
    assert main(["diff", str(a), str(b), "-f", "verdict=mismatch", "--csv", str(csv)]) == 0
    d = pd.read_csv(csv)
    assert list(d["program_id"]) == ["s/b"]
    assert {"verdict_base", "verdict_comp", "verdict_diff", "insns_base", "insns_comp", "insns_diff", "insns_pct"} <= set(d.columns)
    assert d.loc[0, "insns_pct"] == 25.0


def test_diff_rejects_bad_filter_and_dirs(tmp_path, capsys):
    from compare.cli import main

    a = _fake_run(tmp_path / "a", _rows("accept", 40))
    assert main(["diff", str(a), str(a), "-f", "insns ~ 3"]) == 2
    assert main(["diff", str(a), str(tmp_path / "nothing")]) == 2
    assert "is it a run directory" in capsys.readouterr().err


def test_yardsticks_from_a_run(tmp_path, fake_verifiers, capsys):
    from compare.cli import main
    from compare.yardsticks import yardsticks

    progs = [_prog("a", 3), _prog("b", 4), _prog("c", 5), _prog("crash", 7)]
    out = runner.run(progs, tmp_path / "run", runner.RunOptions(render=False))
    y = yardsticks(out)
    assert y["programs"] == 4
    assert y["decided_by_both"] == 3  # the crash is not a verdict
    assert y["verdict_agreement_where_both_decide_pct"] == round(100 * 2 / 3, 2)  # b: kernel rejects
    assert y["py_permissive"] == 1 and y["pyverifier_crashes"] == 1
    assert y["same_insns_processed_pct"] == 100.0
    assert main(["yardsticks", str(out)]) == 0
    assert '"programs": 4' in capsys.readouterr().out


def test_possible_cpus_parses_the_kernel_mask(tmp_path):
    from compare.hostfacts import possible_cpus

    for text, n in (("0\n", 1), ("0-1\n", 2), ("0-3,8-11\n", 12)):
        (tmp_path / "possible").write_text(text)
        assert possible_cpus(str(tmp_path / "possible")) == n
    assert possible_cpus(str(tmp_path / "missing")) is None
