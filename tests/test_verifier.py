"""pyverifier.verify against known verdicts/messages, and against the live kernel (bpf-marked)."""
from __future__ import annotations

import difflib
import re

import pytest

from pyverifier.disasm import normalize_log
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import MapSpec, Program
from pyverifier.verifier import verify

SZ = {1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18}


def mov64i(d, imm): return [Insn(0xB7, d, 0, 0, imm)]
def mov64r(d, s): return [Insn(0xBF, d, s, 0, 0)]
def alu64i(o, d, imm): return [Insn(0x07 | o, d, 0, 0, imm)]
def alu64r(o, d, s): return [Insn(0x0F | o, d, s, 0, 0)]
def ldx(sz, d, s, off): return [Insn(0x61 | SZ[sz], d, s, off, 0)]
def stx(sz, d, s, off): return [Insn(0x63 | SZ[sz], d, s, off, 0)]
def st(sz, d, off, imm): return [Insn(0x62 | SZ[sz], d, 0, off, imm)]
def jmpi(o, d, imm, off): return [Insn(0x05 | o, d, 0, off, imm)]
def ja(off): return [Insn(0x05, 0, 0, off, 0)]
def call(n): return [Insn(0x85, 0, 0, 0, n)]
def exit_(): return [Insn(0x95, 0, 0, 0, 0)]
def ldmap(d, i): return [Insn(0x18, d, 1, 0, i), Insn(0, 0, 0, 0, 0)]


ADD, MUL, AND = 0x00, 0x20, 0x50
JEQ, JNE, JGT = 0x10, 0x50, 0x20
MAP = MapSpec("m", 1, 4, 8, 16)
LOOKUP = [st(4, 10, -4, 0), mov64r(2, 10), alu64i(ADD, 2, -4), ldmap(1, 0), call(1)]


def P(name, *parts, ptype=1, maps=()):
    ins = [i for p in parts for i in p]
    return Program(id=f"t/{name}", source="t", name=name, prog_type=ptype, insns=encode(ins), maps=tuple(maps))


# (program, verdict, errno, message)
CASES = [
    (P("noret", exit_()), "reject", 13, "R0 !read_ok"),
    (P("ret0", mov64i(0, 0), exit_()), "accept", None, ""),
    (P("branch", mov64i(0, 1), jmpi(JEQ, 1, 0, 1), mov64i(0, 2), exit_()), "accept", None, ""),
    (P("jrange", mov64i(0, 1), ja(5), exit_()), "reject", 22, "jump out of range from insn 1 to 7"),
    (P("nolast", mov64i(0, 1)), "reject", 22, "last insn is not an exit or jmp"),
    (P("badop", [Insn(0xFF, 0, 0, 0, 0)], exit_()), "reject", 22, "unknown opcode ff"),
    (P("unreach", mov64i(0, 1), ja(1), exit_(), exit_()), "reject", 22, "unreachable insn 2"),
    (P("ldimm_mid", mov64i(0, 1), jmpi(JEQ, 1, 0, 1), [Insn(0x18, 0, 0, 0, 5), Insn(0, 0, 0, 0, 0)], exit_()),
     "reject", 22, "jump into the middle of ldimm64 insn 2"),
    (P("stack", mov64i(0, 0), st(8, 10, -8, 3), ldx(8, 2, 10, -8), ldx(4, 3, 10, -16), exit_()), "accept", None, ""),
    (P("byte", mov64i(0, 1), st(1, 10, -13, 1), ldx(1, 2, 10, -13), jmpi(JEQ, 1, 0, 2), mov64i(0, 2), exit_(),
       mov64i(0, 0), exit_()), "accept", None, ""),
    (P("ctx_off", mov64i(0, 0), stx(8, 10, 1, -8), ldx(4, 2, 1, 0), ldx(4, 3, 1, 1), exit_()),
     "reject", 13, "invalid bpf_context access off=1 size=4"),
    (P("ctx_mod", mov64r(2, 1), alu64i(ADD, 2, 3), ldx(4, 0, 2, 0), exit_()),
     "reject", 13, "dereference of modified ctx ptr R2 off=3 disallowed"),
    (P("ptr_ptr", mov64r(2, 10), alu64r(ADD, 2, 1), exit_()), "reject", 13, "R2 pointer += pointer prohibited"),
    (P("ptr_mul", mov64r(2, 1), alu64i(MUL, 2, 3), exit_()), "reject", 13,
     "R2 pointer arithmetic with *= operator prohibited"),
    (P("map_oob", *LOOKUP, jmpi(JEQ, 0, 0, 2), ldx(8, 1, 0, 0), ldx(8, 1, 0, 4), mov64i(0, 0), exit_(), maps=[MAP]),
     "reject", 13, "R0 min value is outside of the allowed memory range"),
    (P("map_null", *LOOKUP, ldx(8, 1, 0, 0), mov64i(0, 0), exit_(), maps=[MAP]), "reject", 13,
     "R0 invalid mem access 'map_value_or_null'"),
    (P("map_ptrs", *LOOKUP, jmpi(JNE, 0, 0, 2), mov64i(0, 0), exit_(), alu64i(ADD, 0, 3), mov64r(3, 0),
       alu64r(ADD, 3, 0), exit_(), maps=[MAP]), "reject", 13, "R3 pointer += pointer prohibited"),
    (P("rand", call(7), mov64r(6, 0), alu64i(AND, 6, 0xFF), jmpi(JGT, 6, 10, 2), mov64i(0, 0), exit_(),
       mov64r(0, 6), exit_()), "accept", None, ""),
    (P("xdp_ctx", ldx(4, 0, 1, 16), exit_(), ptype=6), "accept", None, ""),
    (P("xdp_ctx_bad", ldx(4, 0, 1, 20), exit_(), ptype=6), "reject", 13, "invalid bpf_context access off=20 size=4"),
    (P("kprobe_write", st(8, 1, 0, 0), mov64i(0, 0), exit_(), ptype=2), "reject", 13,
     "invalid bpf_context access off=0 size=8"),
]


@pytest.mark.parametrize("prog,verdict,errno,message", CASES, ids=[c[0].name for c in CASES])
def test_verdict_and_message(prog, verdict, errno, message):
    r = verify(prog, 2)
    assert (r.verdict, r.errno, r.message) == (verdict, errno, message), r.log
    assert r.insns_processed is not None


def test_level1_accept_prints_only_stats():
    r = verify(CASES[1][0], 1)
    assert r.log == "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"


def test_not_modelled_is_error():
    p = P("lsm", mov64i(0, 0), exit_(), ptype=29)
    r = verify(p)
    assert r.verdict == "error" and r.message.startswith("not modelled: ")


def _norm(log: str, insns) -> str:
    log = normalize_log(log, insns)
    log = re.sub(r"verification time \d+ usec", "verification time X usec", log)
    # the kernel prints a map address where pyverifier prints map[IDX]: their lengths differ, so the padding too
    return re.sub(r"(\(18\) r\d+ = map\[\d+\]) +;", r"\1 ;", log)


@pytest.mark.bpf
@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("prog", [c[0] for c in CASES], ids=[c[0].name for c in CASES])
def test_against_kernel(prog, level):
    from kernel_loader import load

    k = load(prog, log_level=level)
    assert k.verdict in ("accept", "reject"), k.message
    r = verify(prog, level | 4)
    assert r.verdict == k.verdict
    assert r.errno == k.errno
    assert r.message == k.message
    kl, pl = _norm(k.log, decode(prog.insns)), _norm(r.log, decode(prog.insns))
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier"))


def test_map_with_btf_is_not_modelled_rather_than_judged():
    """A map value with BTF may hold kptr/spin lock/timer fields the kernel checks: never accept it blindly."""
    from pyverifier import verify
    from pyverifier.insn import Insn, encode
    from pyverifier.program import MapSpec, Program

    spec = MapSpec("m", 2, 4, 24, 1, btf=b"\x9f\xeb\x01\x00", btf_key_type_id=1, btf_value_type_id=2)
    prog = Program(id="t/btfmap", source="t", name="btfmap", prog_type=1, maps=(spec,),
                   insns=encode([Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]))
    r = verify(prog)
    assert r.verdict == "error"
    assert r.message.startswith("not modelled: maps with BTF")
