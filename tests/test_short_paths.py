"""The exploration's short paths give what the general rules give.

Two of them skip work the general path does for every instruction:

* ``memory.ptr_add_const``: a 64-bit ``ptr += imm`` where none of ``adjust_ptr``'s checks can
  fail moves the fixed offset directly;
* ``verifier._MAY_WRITE_STACK``: the stack-liveness write marks are recorded only for
  instructions that may write the stack.

Each test verifies programs twice, once as pyverifier runs and once with the short path turned
off (the general path for every instruction), and wants the same verdicts, messages, statistics
and full level-2 logs.
"""
from __future__ import annotations

import pytest

from pyverifier import memory
from pyverifier import verifier as V
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import Program
from selftests.corpus import load_corpus

# pointer arithmetic near the limits the short path must leave to adjust_ptr, stores and spills
# in a subprogram (the write marks reach the caller's instance at the call)
EDGES = [
    ("ptr_add_limits", """
r1 = r10
r1 += -8
r2 = r10
r2 += 536870911
r2 += 1
*(u64 *)(r1 +0) = 0
r0 = *(u64 *)(r10 -8)
exit
"""),
    ("ptr_add_below_limit", """
r3 = r10
r3 += -536870912
r0 = 0
exit
"""),
    ("ptr_add_then_var", """
call bpf_get_prandom_u32#7
r0 &= 7
r1 = r10
r1 += -16
r1 += r0
r1 += 4
r0 = *(u8 *)(r1 +0)
r0 = 0
exit
"""),
    ("map_value_add", """
r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[0]
call bpf_map_lookup_elem#1
if r0 == 0x0 goto pc+3
r0 += 8
r1 = *(u64 *)(r0 +0)
r0 += -8
r0 = 0
exit
"""),
    ("subprog_stack_writes", """
r1 = 1
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
call pc+3
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
r2 = 7
*(u64 *)(r1 +0) = r2
*(u32 *)(r10 -4) = 1
r0 = 0
exit
"""),
]


def _programs() -> list[Program]:
    programs, errors = load_corpus("builtin")
    assert not errors
    programs = [p for p in programs if p.insn_count < 500]  # the long ones add time, not cases
    out = []
    for name, text in EDGES:
        maps = [{"type": "array", "key_size": 4, "value_size": 16, "max_entries": 1}] if "map[" in text else []
        out.append(Program.from_dict({"id": f"test/{name}", "source": "test", "name": name, "prog_type": 1,
                                      "insns": encode(assemble(text)).hex(), "maps": maps}))
    return out + programs


def _outcomes(programs: list[Program]) -> list[tuple]:
    out = []
    for p in programs:
        r = V.verify(p, 2)
        out.append((p.id, r.verdict, r.message, r.log, r.insns_processed, r.total_states, r.peak_states,
                    r.stack_depth))
    return out


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    return _programs()


@pytest.fixture(scope="module")
def as_run(programs) -> list[tuple]:
    return _outcomes(programs)


def test_pointer_plus_constant_short_path_equals_adjust_ptr(monkeypatch, programs, as_run):
    used = []
    original = memory.ptr_add_const

    def counted(ptr, imm):
        r = original(ptr, imm)
        used.append(r is not None)
        return r

    monkeypatch.setattr(memory, "ptr_add_const", counted)
    assert _outcomes(programs) == as_run
    assert any(used) and not all(used)  # taken, and left to adjust_ptr at the limits
    monkeypatch.setattr(memory, "ptr_add_const", lambda ptr, imm: None)
    assert _outcomes(programs) == as_run


def test_write_marks_of_every_instruction_change_nothing(monkeypatch, programs, as_run):
    assert not all(V._MAY_WRITE_STACK)
    monkeypatch.setattr(V, "_MAY_WRITE_STACK", (True,) * 256)
    assert _outcomes(programs) == as_run
