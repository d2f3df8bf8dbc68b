"""kernel_loader.unpriv: loads without CAP_BPF in a child process, and the unprivileged_bpf_disabled sysctl."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kernel_loader import load
from kernel_loader import unpriv
from kernel_loader.unpriv import (
    SYSCTL_NAME,
    UnprivilegedUnavailable,
    disabled_reason,
    read_sysctl,
    unprivileged_bpf,
)
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program

ROOT = os.geteuid() == 0


def prog(text: str, name: str = "u", prog_type: int = 1, maps=()) -> Program:
    return Program(id=f"t/{name}", source="t", name=name, prog_type=prog_type,
                   insns=encode(assemble(text, maps=[m.name for m in maps])), maps=tuple(maps))


def needs_settable_sysctl():
    if not ROOT:
        pytest.skip("changing kernel.unprivileged_bpf_disabled needs root")
    v = read_sysctl()
    if v is None:
        pytest.skip(f"{unpriv.SYSCTL} is not readable")
    if v == 1:
        pytest.skip(f"{SYSCTL_NAME} is 1: unprivileged bpf() stays disabled until the next boot")


def test_disabled_reason_names_the_sysctl_and_what_to_do():
    assert disabled_reason(0) is None
    two = disabled_reason(2)
    assert f"{SYSCTL_NAME} = 2" in two and "unprivileged_bpf(True)" in two and "restore 2" in two
    one = disabled_reason(1)
    assert f"{SYSCTL_NAME} = 1" in one and "next boot" in one
    assert "cannot read" in disabled_reason(None)


@pytest.mark.bpf
def test_a_disabled_sysctl_makes_an_error_row_not_a_verdict(monkeypatch):
    monkeypatch.setattr(unpriv, "read_sysctl", lambda: 2)
    r = load(prog("r0 = 0\nexit"), privileged=False)
    assert (r.verdict, r.stage, r.privileged) == ("error", "permission", False)
    assert f"{SYSCTL_NAME} = 2" in r.message


@pytest.mark.bpf
def test_context_manager_sets_and_restores_the_sysctl():
    needs_settable_sysctl()
    before = read_sysctl()
    with unprivileged_bpf(True) as old:
        assert old == before and read_sysctl() == 0
    assert read_sysctl() == before
    with pytest.raises(RuntimeError, match="boom"):
        with unprivileged_bpf(True):
            assert read_sysctl() == 0
            raise RuntimeError("boom")
    assert read_sysctl() == before
    if before == 0:
        with unprivileged_bpf(False):
            assert read_sysctl() == 2
        assert read_sysctl() == 0


@pytest.mark.bpf
def test_sysctl_is_restored_when_the_process_gets_sigterm(tmp_path):
    needs_settable_sysctl()
    before = read_sysctl()
    if before == 0:
        pytest.skip("unprivileged bpf() is already allowed: nothing to restore")
    flag = tmp_path / "inside"
    code = textwrap.dedent(f"""
        import time, pathlib
        from kernel_loader.unpriv import unprivileged_bpf
        with unprivileged_bpf(True):
            pathlib.Path({str(flag)!r}).write_text("x")
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while not flag.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert flag.exists(), "the child never entered the block"
        assert read_sysctl() == 0
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert read_sysctl() == before


def test_locked_sysctl_cannot_be_enabled(monkeypatch):
    monkeypatch.setattr(unpriv, "read_sysctl", lambda: 1)
    with pytest.raises(UnprivilegedUnavailable, match="until the next boot"):
        with unprivileged_bpf(True):
            pass


@pytest.mark.bpf
def test_unprivileged_rules_apply_in_the_child():
    needs_settable_sysctl()
    leak = prog("r0 = r1\nexit", name="leak")  # returns the context pointer
    assert load(leak).verdict == "accept"
    with unprivileged_bpf(True):
        r = load(leak, privileged=False)
        assert (r.verdict, r.stage, r.privileged) == ("reject", "verifier", False)
        assert r.message == "R0 leaks addr as return value"
        ok = load(prog("r0 = 0\nexit", name="ok"), privileged=False, repeat=2)
        assert ok.verdict == "accept" and ok.privileged is False and len(ok.verify_us) == 2
        # the child raises its capabilities only to read bpf_prog_info, whose lengths it would not see otherwise
        assert ok.verified_insns == 2 and ok.xlated_prog_len == 16
        # a map type that needs CAP_NET_ADMIN cannot be created without it: the load is not attempted
        sock = load(prog("r1 = map[s]\nr0 = 0\nexit", name="sockmap", maps=[MapSpec("s", 15, 4, 4, 1)]),
                    privileged=False)
        assert (sock.verdict, sock.stage) == ("error", "maps")
    # the parent kept its capabilities
    assert load(leak).verdict == "accept"
    assert unpriv.has_admin_caps()


@pytest.mark.bpf
def test_child_leaves_no_fd_in_the_parent():
    needs_settable_sysctl()
    before = set(os.listdir("/proc/self/fd"))
    with unprivileged_bpf(True):
        for _ in range(20):
            load(prog("r0 = 0\nexit"), privileged=False)
            load(prog("exit"), privileged=False)
    assert set(os.listdir("/proc/self/fd")) == before


def test_probe_reports_the_unprivileged_state(monkeypatch):
    from kernel_loader.probe import unprivileged_status

    monkeypatch.setattr(unpriv, "read_sysctl", lambda: 0)
    assert unprivileged_status() == (True, "")
    monkeypatch.setattr(unpriv, "read_sysctl", lambda: 2)
    ok, reason = unprivileged_status()
    assert not ok and f"{SYSCTL_NAME} = 2" in reason
