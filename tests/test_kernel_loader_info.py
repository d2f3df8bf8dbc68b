"""kernel_loader: verdict/stage rules, bpf_prog_info of accepted programs, log levels 1, 2 and 4."""
from __future__ import annotations

import errno as E
import os

import pytest

from kernel_loader import load
from kernel_loader.info import btf_ids, map_ids, prog_ids, prog_info
from kernel_loader.loader import open_program
from kernel_loader.maps import created_maps
from kernel_loader.outcome import ENOTSUPP, apply_outcome
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program
from pyverifier.result import Result

STATS = ("verification time 7 usec\nstack depth 0\n"
         "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n")


def prog(text: str, name: str = "t", prog_type: int = 1, maps=(), flags: int = 0) -> Program:
    return Program(id=f"t/{name}", source="t", name=name, prog_type=prog_type, insns=encode(assemble(text, maps=[m.name for m in maps])),
                   maps=tuple(maps), prog_flags=flags)


def outcome(ret: int, log: str, caps_held: bool = False) -> Result:
    return apply_outcome(Result(program_id="p", verifier="kernel-x", verdict="error"), ret, log, caps_held=caps_held)


# --- the rules (pure) ---------------------------------------------------------------------------

def test_fd_is_accept_by_the_verifier():
    r = outcome(5, "0: (b7) r0 = 0\n" + STATS)
    assert (r.verdict, r.stage, r.insns_processed, r.stack_depth) == ("accept", "verifier", 2, [0])


def test_refusal_with_a_log_is_a_verifier_reject():
    r = outcome(-E.EACCES, "0: (95) exit\nR0 !read_ok\n" + STATS)
    assert (r.verdict, r.stage, r.errno, r.message) == ("reject", "verifier", E.EACCES, "R0 !read_ok")


def test_eperm_with_a_log_is_an_unprivileged_rule_so_a_reject():
    r = outcome(-E.EPERM, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN\n")
    assert (r.verdict, r.stage) == ("reject", "verifier")


def test_eperm_without_a_log_is_never_a_verdict():
    no_caps = outcome(-E.EPERM, "")
    assert (no_caps.verdict, no_caps.stage) == ("error", "permission")
    with_caps = outcome(-E.EPERM, "", caps_held=True)
    assert (with_caps.verdict, with_caps.stage) == ("error", "load")
    assert "before the verifier ran" in with_caps.message


def test_einval_without_a_log_is_a_reject_before_the_verifier():
    r = outcome(-E.EINVAL, "")
    assert (r.verdict, r.stage) == ("reject", "load")
    assert "before the verifier ran" in r.message


def test_enotsupp_without_a_log_is_an_environment_error_with_one_a_reject():
    bare = outcome(-ENOTSUPP, "")
    assert (bare.verdict, bare.stage) == ("error", "load") and "ENOTSUPP" in bare.message
    logged = outcome(-ENOTSUPP, "some feature is not supported\n" + STATS)
    assert (logged.verdict, logged.stage) == ("reject", "verifier")


def test_other_errnos_are_errors():
    r = outcome(-E.ENOMEM, "")
    assert (r.verdict, r.stage) == ("error", "load") and "ENOMEM" in r.message


# --- the kernel ---------------------------------------------------------------------------------

@pytest.mark.bpf
def test_prog_info_of_an_accepted_program():
    r = load(prog("r0 = 0\nr1 = 1\nr0 += r1\nexit"))
    assert r.verdict == "accept", r.message
    assert r.verified_insns == r.insns_processed == 4
    assert r.xlated_prog_len == 4 * 8
    assert r.jited_prog_len and r.jited_prog_len > 0


@pytest.mark.bpf
def test_no_prog_info_without_acceptance_or_when_not_asked():
    rej = load(prog("exit"))
    assert rej.verdict == "reject" and rej.verified_insns is None and rej.xlated_prog_len is None
    quiet = load(prog("r0 = 0\nexit"), info=False)
    assert quiet.verdict == "accept" and quiet.verified_insns is None


@pytest.mark.bpf
@pytest.mark.parametrize("level", [1, 2, 4])
def test_log_levels_1_2_and_4(level):
    r = load(prog("r0 = 0\nif r0 > 0x1 goto pc+1\nr0 = 2\nexit"), log_level=level)
    assert r.verdict == "accept" and r.log_level == level
    assert r.insns_processed is not None and "verification time" in r.log  # the statistics flag is always on
    per_insn = "1: (25) if r0 > 0x1 goto pc+1" in r.log
    assert per_insn == (level == 2)  # only level 2 prints every instruction of an accepted program


@pytest.mark.bpf
def test_stages_tell_the_kernel_from_the_tool():
    bad_flags = load(prog("r0 = 0\nexit", flags=1 << 30))  # an unknown prog_flags bit
    assert (bad_flags.verdict, bad_flags.stage) == ("reject", "load")
    rej = load(prog("exit"))
    assert (rej.verdict, rej.stage) == ("reject", "verifier")
    nomap = load(prog("r0 = 0\nexit", maps=[MapSpec("z", 2, 4, 8, 0)]))
    assert (nomap.verdict, nomap.stage) == ("error", "maps")
    badref = Program(id="t/ref", source="t", name="ref", prog_type=1,
                     insns=encode(assemble("r1 = map[m]\nr0 = 0\nexit", maps=["m"])))
    r = load(badref)
    assert (r.verdict, r.stage) == ("error", "program") and "map reference to index 0" in r.message


@pytest.mark.bpf
def test_open_program_keeps_it_loaded_until_the_block_ends():
    p = prog("r0 = 0\nexit", name="vd_open_prog")
    with open_program(p) as (fd, res):
        assert res.verdict == "accept" and fd is not None
        info = prog_info(fd)
        assert info.id in prog_ids()
    assert info.id not in prog_ids()
    with open_program(prog("exit")) as (fd, res):
        assert fd is None and res.verdict == "reject"


@pytest.mark.bpf
def test_id_walks_see_live_objects():
    with open_program(prog("r0 = 0\nexit", name="vd_ids")) as (fd, _):
        assert prog_info(fd).id in prog_ids()
    with created_maps([MapSpec("vd_ids", 2, 4, 4, 1)]) as (mfd,):
        assert max(map_ids()) >= 1
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        assert 1 in btf_ids()  # the kernel's own BTF is object 1
