"""``Liveness.alive_mask`` (all 64 slots at once) agrees with ``slot_alive`` slot by slot.

Pruning asks for the mask of every frame of a state inside a subprogram; the mask
is computed word-wise for speed, and must stay what 64 ``slot_alive`` queries say.
"""
from __future__ import annotations

from pyverifier import liveness
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import Program
from pyverifier.verifier import verify
from selftests.corpus import load_corpus

# the caller's fp-8 and fp-16 are read after the calls return: alive in frame 0 while the callee
# runs, where its branches make checkpoints whose states are cleaned
CALLER_STACK_LIVE = """
r1 = 0
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = r1
call pc+5
call pc+4
r0 = *(u64 *)(r10 -8)
r1 = *(u64 *)(r10 -16)
r0 += r1
exit
call bpf_get_prandom_u32#7
if r0 > 0x3 goto pc+2
r0 = 1
goto pc+0
r1 = 1
if r0 > 0x5 goto pc+1
r1 = 2
exit
"""


def _programs_with_subprogram_calls():
    programs, _ = load_corpus("builtin")
    out = [Program(id="test/caller_stack_live", source="test", name="caller_stack_live", prog_type=1,
                   insns=encode(assemble(CALLER_STACK_LIVE)))]
    for p in programs:
        insns = p.decoded()
        if any(i.code == 0x85 and i.src == 1 for i in insns):  # bpf-to-bpf call
            out.append(p)
    return out


def test_alive_mask_equals_slot_by_slot_answers(monkeypatch):
    programs = _programs_with_subprogram_calls()
    original = liveness.Liveness.alive_mask
    asked = []

    def checked(self, st, frameno):
        mask = original(self, st, frameno)
        expected = sum(1 << spi for spi in range(64) if self.slot_alive(st, frameno, spi))
        assert mask == expected, (st.insn_idx, frameno)
        asked.append(mask)
        return mask

    monkeypatch.setattr(liveness.Liveness, "alive_mask", checked)
    for p in programs:
        r = verify(p, log_level=4)
        assert not r.message.startswith("internal error"), (p.id, r.message)
    assert any(asked), "no state inside a subprogram had a live slot: the test checked nothing"
