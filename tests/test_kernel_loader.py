"""kernel_loader against the live kernel: verdicts, logs, statistics, maps, fds."""
from __future__ import annotations

import os

import pytest

from kernel_loader import load
from kernel_loader.loader import patch_map_fds
from pyverifier.insn import Insn, encode
from pyverifier.program import MapSpec, Program

R0_0 = Insn(0xB7, 0, 0, 0, 0)
EXIT = Insn(0x95, 0, 0, 0, 0)


def prog(insns, name="t", prog_type=1, maps=()):
    return Program(id=f"test/{name}", source="test", name=name, prog_type=prog_type, insns=encode(insns), maps=maps)


def lookup_prog(map_type=1, checked=True):
    body = [
        Insn(0x62, 10, 0, -4, 0),  # *(u32 *)(r10 -4) = 0
        Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0),  # r1 = map[0]
        Insn(0xBF, 2, 10, 0, 0),  # r2 = r10
        Insn(0x07, 2, 0, 0, -4),  # r2 += -4
        Insn(0x85, 0, 0, 0, 1),  # call bpf_map_lookup_elem
    ]
    if checked:
        body.append(Insn(0x15, 0, 0, 1, 0))  # if r0 == 0 goto +1
    body += [Insn(0x61, 0, 0, 0, 0), EXIT]  # r0 = *(u32 *)(r0 +0); exit
    return prog(body, name=f"lookup{map_type}{checked}", maps=(MapSpec("m", map_type, 4, 8, 16),))


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.bpf
def test_accept_with_stats():
    r = load(prog([R0_0, EXIT]))
    assert r.verdict == "accept", r.message
    assert r.insns_processed == 2
    assert r.stack_depth == [0]
    assert len(r.verify_us) == 1 and r.verify_us[0] >= 0
    assert "0: (b7) r0 = 0" in r.log
    assert r.verifier.startswith("kernel-")


@pytest.mark.bpf
def test_reject_uninit_r0():
    r = load(prog([EXIT]))
    assert r.verdict == "reject"
    assert r.errno == 13
    assert r.message == "R0 !read_ok"


@pytest.mark.bpf
def test_map_lookup_null_check_decides():
    ok = load(lookup_prog(checked=True))
    assert ok.verdict == "accept", ok.log
    assert "map_value_or_null" in ok.log
    bad = load(lookup_prog(checked=False))
    assert bad.verdict == "reject"
    assert "invalid mem access 'map_value_or_null'" in bad.message


@pytest.mark.bpf
def test_map_that_cannot_be_created_is_an_error_not_a_verdict():
    p = prog([R0_0, EXIT], maps=(MapSpec("bad", 2, 4, 8, 0),))  # array with 0 entries: EINVAL at create
    r = load(p)
    assert r.verdict == "error"
    assert "cannot create map #0 'bad'" in r.message


@pytest.mark.bpf
def test_repeat_gives_one_time_per_repetition():
    r = load(prog([R0_0, EXIT]), repeat=4)
    assert len(r.verify_us) == 4


@pytest.mark.bpf
def test_log_grows_beyond_initial_buffer():
    # 60,000 straight-line instructions print well over the initial 1 MiB log buffer at level 2
    n = 60000
    r = load(prog([R0_0] * n + [EXIT], name="big"))
    assert r.verdict == "accept", r.message
    assert len(r.log) > (1 << 20)
    assert r.log.rstrip().endswith("mark_read 0")
    assert r.insns_processed == n + 1


@pytest.mark.bpf
def test_no_fd_left_behind():
    before = open_fds()
    for _ in range(50):
        load(lookup_prog(checked=True))
        load(lookup_prog(checked=False))
        load(prog([R0_0, EXIT], maps=(MapSpec("bad", 2, 4, 8, 0),)))
    assert open_fds() == before


def test_truncated_program_is_an_error():
    p = Program(id="t/x", source="t", name="x", prog_type=1, insns=b"\x95" + b"\0" * 7)
    object.__setattr__(p, "insns", p.insns + b"\x00\x01")
    r = load(p)
    assert r.verdict == "error"
    assert "not a multiple of 8" in r.message


def test_patch_map_fds_checks_index():
    insns = [Insn(0x18, 1, 1, 0, 3), Insn(0, 0, 0, 0, 0)]
    with pytest.raises(ValueError, match="map reference to index 3"):
        patch_map_fds(insns, [7])
    assert patch_map_fds([Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0)], [7])[0].imm == 7
