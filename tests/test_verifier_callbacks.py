"""Callbacks: bpf_loop and bpf_for_each_map_elem with the program's BTF func_info (pyverifier.subprog, calls).

Each program is verified by pyverifier and by the live kernel; the full level-2 logs (the
callback's frame with its `` cb`` mark, the return to the helper call, the widening of
imprecise scalars, the convergence at the call, the precision walk stopping at the callback's
exit, the inlined bpf_loop's 24 bytes of stack), the verdicts and the statistics must be equal.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kernel_loader.btf import BtfBuilder
from pyverifier.insn import Insn as I
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

LD_FUNC = 0x18  # ld_imm64 with src 4 (BPF_PSEUDO_FUNC): the callback's address
LOOP, FOR_EACH = 181, 164


def _prog(name, insns, funcs, maps=()):
    """``funcs``: (first insn, parameter kinds: "i" int, "p" void *) of main and each subprogram."""
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    fi = []
    for k, (idx, params) in enumerate(funcs):
        proto = b.func_proto(i, [(f"a{j}", i if t == "i" else b.ptr(0)) for j, t in enumerate(params)])
        fi.append((idx, b.func("main" if k == 0 else f"cb{k}", proto, linkage=0)))
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(insns), license="GPL",
                   btf=b.encode(), func_info=tuple(fi), maps=maps)


def _loop(n_insn, cb_off, r4=0, cb=(I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)), params="ip"):
    """r1 = nr_loops; r2 = callback; r3 = 0; r4 = flags; call bpf_loop; r0 = 0; exit; callback..."""
    insns = [n_insn, I(LD_FUNC, 2, 4, 0, 6), I(0, 0, 0, 0, 0), I(0xB7, 3, 0, 0, 0), I(0xB7, 4, 0, 0, r4),
             I(0x85, 0, 0, 0, LOOP), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)] + list(cb)
    return insns, [(0, "p"), (8, params)]


PROGRAMS = {
    # constant count; the int-typed second parameter gets a func pointer: "R2 is not a scalar"
    "const_count": _loop(I(0xB7, 1, 0, 0, 3), 6, params="ii"),
    # flags not 0: no inlining, no extra stack
    "flags_set": _loop(I(0xB7, 1, 0, 0, 3), 6, r4=1),
    # zero iterations: the callback is never explored ("iteration limit reached")
    "zero_count": _loop(I(0xB7, 1, 0, 0, 0), 6),
    # the callback returns 2: outside [0, 1]
    "bad_return": _loop(I(0xB7, 1, 0, 0, 3), 6, cb=(I(0xB7, 0, 0, 0, 2), I(0x95, 0, 0, 0, 0))),
    # the callback returns its frame pointer
    "stack_return": _loop(I(0xB7, 1, 0, 0, 3), 6, cb=(I(0xBF, 0, 10, 0, 0), I(0x95, 0, 0, 0, 0))),
    # the callback reads R3, which bpf_loop leaves uninitialized
    "uninit_arg": _loop(I(0xB7, 1, 0, 0, 3), 6, cb=(I(0xBF, 0, 3, 0, 0), I(0x95, 0, 0, 0, 0))),
    # an unknown bound; the callback counts in the caller's stack through its context pointer:
    # the count is widened to unknown and the iterations converge
    "counter_in_caller_stack": (
        [I(0x61, 1, 1, 0, 0), I(0x7A, 10, 0, -8, 0), I(LD_FUNC, 2, 4, 0, 7), I(0, 0, 0, 0, 0), I(0xBF, 3, 10, 0, 0),
         I(0x07, 3, 0, 0, -8), I(0xB7, 4, 0, 0, 0), I(0x85, 0, 0, 0, LOOP), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
         I(0x79, 1, 2, 0, 0), I(0x07, 1, 0, 0, 1), I(0x7B, 2, 1, 0, 0), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)],
        [(0, "p"), (10, "ip")]),
    # a bounded count (0..7); the callback stores its index into the caller's stack
    "index_to_caller_stack": (
        [I(0x61, 1, 1, 0, 0), I(0x57, 1, 0, 0, 7), I(0x7A, 10, 0, -8, 0), I(LD_FUNC, 2, 4, 0, 7), I(0, 0, 0, 0, 0),
         I(0xBF, 3, 10, 0, 0), I(0x07, 3, 0, 0, -8), I(0xB7, 4, 0, 0, 0), I(0x85, 0, 0, 0, LOOP),
         I(0x79, 0, 10, -8, 0), I(0x95, 0, 0, 0, 0), I(0x7B, 2, 1, 0, 0), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)],
        [(0, "p"), (11, "ip")]),
    # the callback calls a static subprogram: three frames, precision of R0 back through both
    "callback_calls_subprog": (
        [I(0xB7, 1, 0, 0, 5), I(LD_FUNC, 2, 4, 0, 6), I(0, 0, 0, 0, 0), I(0xB7, 3, 0, 0, 0), I(0xB7, 4, 0, 0, 0),
         I(0x85, 0, 0, 0, LOOP), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
         I(0x85, 0, 1, 0, 1), I(0x95, 0, 0, 0, 0), I(0xBF, 0, 1, 0, 0), I(0x57, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0)],
        [(0, "p"), (8, "ip"), (10, "i")]),
}
ARRAY = MapSpec(name="arr", type=2, key_size=4, value_size=8, max_entries=4)
# for_each_map_elem: the callback gets the map, a key and a value pointer, and returns value & 1
FOR_EACH_PROG = (
    [I(0x18, 1, 1, 0, 0), I(0, 0, 0, 0, 0), I(LD_FUNC, 2, 4, 0, 6), I(0, 0, 0, 0, 0), I(0xB7, 3, 0, 0, 0),
     I(0xB7, 4, 0, 0, 0), I(0x85, 0, 0, 0, FOR_EACH), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
     I(0x79, 0, 3, 0, 0), I(0x57, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0)],
    [(0, "p"), (9, "pppp")])


def test_callback_verdicts_without_a_kernel():
    assert verify(_prog("c", *PROGRAMS["const_count"]), 2).stack_depth == [24, 0]  # inlined bpf_loop
    assert verify(_prog("f", *PROGRAMS["flags_set"]), 2).stack_depth == [0, 0]
    r = verify(_prog("b", *PROGRAMS["bad_return"]), 2)
    assert r.message == "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]"
    r = verify(_prog("z", *PROGRAMS["zero_count"]), 2)
    assert r.verdict == "accept" and "frame0 bpf_loop iteration limit reached" in r.log
    r = verify(_prog("u", *PROGRAMS["counter_in_caller_stack"]), 2)
    assert r.verdict == "accept" and "from 14 to 7: safe" in r.log


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_bpf_loop_against_kernel(name):
    same_as_kernel(_prog(name, *PROGRAMS[name]), stack_depth=True)


@pytest.mark.bpf
def test_for_each_map_elem_against_kernel():
    same_as_kernel(_prog("for_each", *FOR_EACH_PROG, maps=(ARRAY,)), stack_depth=True)
