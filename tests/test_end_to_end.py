"""The whole path: run_compare.sh / verifier-diff run -> run directory -> report seen in Chromium."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from browser import programs_tbody, run_chromium, save_artifact
from compare.cli import main
from selftests.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.bpf
@pytest.mark.chromium
def test_run_compare_sh_builtin_report_shows_both_verdicts(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([str(ROOT / "run_compare.sh"), "--out", str(out)], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    index = out / "report" / "index.html"
    assert f"report: {index.resolve()}" in proc.stdout
    programs, errors = load_corpus("builtin")
    assert not errors and len(programs) >= 30

    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 2 * len(programs)
    assert set(res[res.verifier_kind == "kernel"].verdict) <= {"accept", "reject"}  # the kernel always decides
    comp = pd.read_csv(out / "comparison.csv")
    # every program states the kernel's verdict as its expectation: the kernel must agree with it
    assert (comp.kernel_verdict == comp.expect_verdict).all()

    shot = tmp_path / "index.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1400", index.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
    save_artifact(shot, "builtin-report-index.png")
    dom = run_chromium(tmp_path, "--dump-dom", index.as_uri()).stdout
    body = programs_tbody(dom)
    rows = re.findall(r"<tr\b.*?</tr>", body, re.S)
    assert len(rows) == len(programs)
    for p in programs:
        row = next((r for r in rows if f'title="{p.id}"' in r), None)
        assert row is not None, f"{p.id} has no row"
        verdicts = re.findall(r'<td class="v v-(accept|reject|error)"[^>]*>(\w+)</td>', row)
        assert len(verdicts) == 2, f"{p.id}: expected kernel and pyverifier verdict cells, got {verdicts}"


@pytest.mark.bpf
def test_third_party_jsonl_corpus(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--corpus", str(DATA / "thirdparty.jsonl"), "--out", str(out), "--jobs", "1"]) == 0
    errors = json.loads((out / "corpus_errors.json").read_text())
    assert len(errors) == 2
    assert any("jsonl:4:" in e and "not a multiple of 8" in e for e in errors)
    assert any("jsonl:5:" in e and "not valid JSON" in e for e in errors)
    res = pd.read_parquet(out / "results.parquet")
    kernel = res[res.verifier_kind == "kernel"].set_index("program_id")
    assert kernel.loc["jsonl/ret_zero", "verdict"] == "accept"
    assert kernel.loc["partner/uninit_r0", "verdict"] == "reject"
    assert kernel.loc["partner/uninit_r0", "message"] == "R0 !read_ok"
    assert kernel.loc["jsonl/lookup", "verdict"] == "accept", kernel.loc["jsonl/lookup", "message"]
    assert (out / "report" / "index.html").exists()


def test_run_without_kernel_still_runs_pyverifier(tmp_path, monkeypatch, capsys):
    import compare.cli as cli

    monkeypatch.setattr(cli, "_kernel_unavailable", lambda kinds: "bpf() is refused as uid 1000 (EPERM): run with sudo.")
    out = tmp_path / "run"
    assert main(["run", "--corpus", str(DATA / "thirdparty.jsonl"), "--out", str(out), "--no-report"]) == 0
    assert "run with sudo" in capsys.readouterr().err
    res = pd.read_parquet(out / "results.parquet").set_index(["program_id", "verifier_kind"])
    assert res.loc[("jsonl/ret_zero", "pyverifier"), "verdict"] == "accept"
    assert res.loc[("jsonl/ret_zero", "kernel"), "verdict"] == "error"


def _reachable_by_others(path: Path) -> bool:
    """Every directory up to ``path`` lets other users in (a clone in a mode-700 temp dir does not)."""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def _as_nobody(cmd: list[str]) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        if not _reachable_by_others(ROOT):
            pytest.skip(f"{ROOT} is not reachable by other users (a parent directory lacks o+x), so nobody cannot run it")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "HOME": "/tmp", "MPLCONFIGDIR": "/tmp"})


def test_run_compare_sh_as_non_root_says_what_to_do():
    proc = _as_nobody([str(ROOT / "run_compare.sh"), "--help"])
    assert "run it with sudo" in proc.stderr
    assert proc.returncode == 0, proc.stderr[-2000:]  # set-up done already: the pure-Python parts work


def test_verify_as_non_root_explains_and_runs_pyverifier(tmp_path):
    proc = _as_nobody([str(ROOT / ".venv/bin/verifier-diff"), "verify", str(DATA / "thirdparty.jsonl"), "--name", "ret_zero"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "kernel not available: bpf() is refused" in proc.stdout and "sudo" in proc.stdout
    assert re.search(r"pyverifier +accept", proc.stdout)


@pytest.mark.bpf
def test_verify_side_by_side_marks_first_divergence(capsys):
    assert main(["verify", str(DATA / "thirdparty.jsonl"), "--name", "uninit_r0", "--logs"]) == 0
    out = capsys.readouterr().out
    assert "kernel " in out and "| pyverifier" in out
    assert "R0 !read_ok" in out
    assert "logs identical" in out or "first divergence: line" in out


def test_side_by_side_layout():
    from compare.cli import _side_by_side
    from pyverifier.program import Program

    p = Program(id="t/x", source="t", name="x", prog_type=1, insns=bytes.fromhex("9500000000000000"))
    text = _side_by_side(p, "0: (95) exit\nR0 !read_ok\n", "0: (95) exit\nR0 is bad\n", width=63)
    lines = text.splitlines()
    assert lines[2] == f"{'0: (95) exit':<30} | 0: (95) exit"
    assert lines[3] == f"{'R0 !read_ok':<30} ! R0 is bad"
    assert lines[-1].startswith("first divergence: line 2")


@pytest.mark.bpf
def test_run_unprivileged_column_and_attach_check(tmp_path):
    """--unprivileged adds a column; --allow-unprivileged-bpf restores the sysctl; --attach-check records packets."""
    sysctl = Path("/proc/sys/kernel/unprivileged_bpf_disabled")
    before = sysctl.read_text()
    out = tmp_path / "run"
    rc = main(["run", "--corpus", str(DATA / "thirdparty.jsonl"), "--out", str(out), "--unprivileged",
               "--allow-unprivileged-bpf", "--attach-check", "--no-report"])
    if rc == 2:
        pytest.skip("kernel.unprivileged_bpf_disabled is 1: it cannot be lowered before a reboot")
    assert rc == 0
    assert sysctl.read_text() == before
    comp = pd.read_csv(out / "comparison.csv").set_index("program_id")
    assert comp.loc["jsonl/ret_zero", "kernel_unpriv_verdict"] == "accept"  # a socket filter loads unprivileged
    assert comp.loc["partner/uninit_r0", "kernel_unpriv_verdict"] == "reject"
    assert comp.loc["jsonl/lookup", "kernel_unpriv_verdict"] == "error"  # xdp needs CAP_NET_ADMIN: not a verdict
    assert comp.loc["jsonl/lookup", "kernel_attach_check"].startswith("xdp")
