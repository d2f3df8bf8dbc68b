"""kernel_loader.attach: XDP and tc programs on a veth pair in a throwaway network namespace."""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time

import pytest

from kernel_loader.attach import (
    ATTACH_FAILED,
    DROPPED,
    NOT_ACCEPTED,
    PASSED,
    RETURNED,
    UNSUPPORTED,
    AttachResult,
    attach_check,
    udp_frame,
)
from kernel_loader.info import prog_ids, prog_name_by_id
from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import Program

XDP = uapi.prog_type_num("xdp")
TC = uapi.prog_type_num("sched_cls")
XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX = 0, 1, 2, 3
TC_ACT_OK, TC_ACT_SHOT = 0, 2


def _pyroute2() -> None:
    try:
        import pyroute2  # noqa: F401
    except ImportError as e:
        pytest.skip(f"pyroute2 is not installed ({e}): pip install pyroute2")
    if os.geteuid() != 0:
        pytest.skip("the attach check needs root (a network namespace, veth devices)")


def returning(prog_type: int, value: int, name: str) -> Program:
    return Program(id=f"t/{name}", source="t", name=name, prog_type=prog_type,
                   insns=encode(assemble(f"r0 = {value}\nexit")))


def test_udp_frame_is_well_formed():
    f = udp_frame(b"\x02" * 6, b"\x04" * 6, "10.0.0.1", "10.0.0.2", 1, 2, b"hi")
    assert f[12:14] == b"\x08\x00" and len(f) == 14 + 20 + 8 + 2
    ip = f[14:34]
    total = sum(struct.unpack("!10H", ip))
    assert (total & 0xFFFF) + (total >> 16) == 0xFFFF  # header checksum verifies
    assert socket.inet_ntoa(ip[12:16]) == "10.0.0.1" and f[-2:] == b"hi"


def test_summary_lines():
    r = AttachResult("p", "xdp", PASSED, mode="xdp native", sent=3, received=3, run_count=3)
    assert r.summary == "xdp native: passed (3 sent, 3 received, ran 3)"
    assert AttachResult("p", "", UNSUPPORTED, message="m").summary == "none: unsupported (m)"


def test_other_program_types_are_not_attached():
    r = attach_check(returning(1, 0, "sock"))
    assert r.status == UNSUPPORTED and "only xdp and sched_cls" in r.message


@pytest.mark.bpf
@pytest.mark.parametrize("value,status", [(XDP_PASS, PASSED), (XDP_DROP, DROPPED), (XDP_ABORTED, DROPPED),
                                          (XDP_TX, RETURNED)])
def test_xdp_actions_on_real_packets(value, status):
    _pyroute2()
    r = attach_check(returning(XDP, value, f"vd_xdp_{value}"))
    assert r.status == status, r
    assert r.mode.startswith("xdp") and r.sent == 3 and r.run_count == 3
    assert (r.received, r.returned) == ((3, 0) if status == PASSED else (0, 3) if status == RETURNED else (0, 0))


@pytest.mark.bpf
@pytest.mark.parametrize("value,status", [(TC_ACT_OK, PASSED), (TC_ACT_SHOT, DROPPED)])
def test_tc_actions_on_real_packets(value, status):
    _pyroute2()
    r = attach_check(returning(TC, value, f"vd_tc_{value}"))
    assert (r.status, r.mode, r.run_count) == (status, "tc clsact ingress", 3), r


@pytest.mark.bpf
def test_a_program_reading_the_packet_decides_per_packet():
    """Pass only frames whose IPv4 destination is 10.203.0.2 (the check's receiver): all pass."""
    _pyroute2()
    text = """
        r2 = *(u32 *)(r1 +4)
        r1 = *(u32 *)(r1 +0)
        r3 = r1
        r3 += 34
        if r3 > r2 goto drop
        r4 = *(u32 *)(r1 +30)
        r0 = 2
        if r4 == 0x200cb0a goto out
    drop:
        r0 = 1
    out:
        exit
    """
    p = Program(id="t/dst", source="t", name="vd_dst", prog_type=XDP, insns=encode(assemble(text)))
    r = attach_check(p)
    assert (r.status, r.received, r.run_count) == (PASSED, 3, 3), r


@pytest.mark.bpf
def test_rejected_program_is_not_attached():
    _pyroute2()
    r = attach_check(Program(id="t/bad", source="t", name="bad", prog_type=XDP, insns=encode(assemble("exit"))))
    assert r.status == NOT_ACCEPTED and "R0 !read_ok" in r.message


@pytest.mark.bpf
def test_frags_program_on_a_driver_without_frags_fails_to_attach_or_runs():
    """An xdp.frags program may be refused by a device: that is attach_failed, never a crash."""
    _pyroute2()
    p = Program(id="t/frags", source="t", name="vd_frags", prog_type=XDP, insns=encode(assemble("r0 = 2\nexit")),
                prog_flags=uapi.PROG_FLAGS["xdp_has_frags"])
    r = attach_check(p)
    assert r.status in (PASSED, ATTACH_FAILED), r


def _ours(name: str) -> list[int]:
    return [i for i in prog_ids() if prog_name_by_id(i) == name]


@pytest.mark.bpf
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_check_leaves_nothing_behind(sig):
    """Kill the process running a check while the program is attached: program, namespace and child all go."""
    _pyroute2()
    name = f"vd_int{os.getpid() % 10000}"
    code = textwrap.dedent(f"""
        import sys
        from kernel_loader.attach import attach_check
        from pyverifier.asm import assemble
        from pyverifier.insn import encode
        from pyverifier.program import Program
        p = Program(id="t/i", source="t", name={name!r}, prog_type=6, insns=encode(assemble("r0 = 1\\nexit")))
        print("start", flush=True)
        attach_check(p, packets=1000, timeout=60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + 30
        while not _ours(name) and time.monotonic() < deadline:  # wait until the program is loaded
            time.sleep(0.02)
        assert _ours(name), "the check never loaded its program"
        children = _children(proc.pid)
        assert children, "the check runs in a child process"
        time.sleep(0.2)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while (_ours(name) or any(_alive(c) for c in children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _ours(name), "the program is still loaded"
    assert not any(_alive(c) for c in children), "the check's child process is still alive"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
