"""Program BTF: the Program record's btf/func_info/line_info, and kernel_loader passing them to BPF_PROG_LOAD.

A callback (``bpf_loop``) needs the program's BTF func_info: the kernel refuses it
without and accepts it with, and so does pyverifier (tests/test_verifier_callbacks.py
compares the logs); what pyverifier cannot judge (global functions, line_info, a
func_info that does not fit) is named.
"""
from __future__ import annotations

import dataclasses

import pytest

from kernel_loader.btf import BtfBuilder
from pyverifier.insn import Insn as I
from pyverifier.insn import encode
from pyverifier.program import Program, ProgramFormatError
from pyverifier.verifier import verify

# r1 = 3; r2 = &callback; r3 = 0; r4 = 0; call bpf_loop; r0 = 0; exit; callback: r0 = 0; exit
LOOP = [I(0xB7, 1, 0, 0, 3), I(0x18, 2, 4, 0, 6), I(0, 0, 0, 0, 0), I(0xB7, 3, 0, 0, 0), I(0xB7, 4, 0, 0, 0),
        I(0x85, 0, 0, 0, 181), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0), I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)]


def _btf():
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=0)
    cb = b.func("cb", b.func_proto(i, [("idx", i), ("data", b.ptr(0))]), linkage=0)
    return b.encode(), ((0, main), (8, cb))


def _loop_prog(with_btf: bool, btf: bytes | None = None) -> Program:
    blob, fi = _btf()
    if btf is not None:
        blob = btf
    return Program(id="t/bpf_loop", source="t", name="bpf_loop", prog_type=1, insns=encode(LOOP), license="GPL",
                   btf=blob if with_btf else None, func_info=fi if with_btf else ())


def test_program_btf_round_trips_through_json():
    p = _loop_prog(True)
    q = Program.from_json(p.to_json())
    assert q == p and q.btf == p.btf and q.func_info == p.func_info
    bare = _loop_prog(False)
    assert "btf" not in bare.to_dict() and Program.from_json(bare.to_json()).btf is None


@pytest.mark.parametrize("field,value,says", [
    ("btf", "zz", "btf is not a hex string"),
    ("func_info", [[0]], "list of 2 non-negative integers"),
    ("line_info", [[0, 1, 2, -3]], "list of 4 non-negative integers"),
    ("func_info", "0,1", "func_info must be a list"),
])
def test_bad_program_btf_fields_are_named(field, value, says):
    d = _loop_prog(True).to_dict()
    d[field] = value
    with pytest.raises(ProgramFormatError, match=says):
        Program.from_dict(d)


def test_func_info_needs_btf():
    d = _loop_prog(True).to_dict()
    del d["btf"]
    with pytest.raises(ProgramFormatError, match="func_info without btf"):
        Program.from_dict(d)


def test_pyverifier_needs_func_info_for_a_callback():
    assert verify(_loop_prog(True), 2).verdict == "accept"
    r = verify(_loop_prog(False), 2)
    assert (r.verdict, r.message) == ("reject", "missing btf func_info")


def test_program_btf_checks_and_what_pyverifier_cannot_judge():
    p = _loop_prog(True)
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    g = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=0)
    cb = b.func("cb", b.func_proto(i, [("idx", i), ("data", b.ptr(0))]), linkage=1)  # a global subprogram
    glob = Program(id="t/g", source="t", name="g", prog_type=1, insns=p.insns, btf=b.encode(),
                   func_info=((0, g), (8, cb)))
    r = verify(glob, 2)
    assert (r.verdict, r.message) == ("reject", "callback function not static")
    shifted = Program(id="t/s", source="t", name="s", prog_type=1, insns=p.insns, btf=p.btf,
                      func_info=((0, p.func_info[0][1]), (7, p.func_info[1][1])))
    assert verify(shifted, 2).message == "func_info BTF section doesn't match subprog layout in BPF program"


@pytest.mark.bpf
def test_kernel_needs_and_takes_func_info_for_a_callback():
    from kernel_loader import load

    k = load(_loop_prog(False), log_level=2)
    assert (k.verdict, k.message) == ("reject", "missing btf func_info")
    k = load(_loop_prog(True), log_level=2)
    assert k.verdict == "accept", k.log
    assert "from 5 to 8: frame1:" in k.log  # the callback was explored in its own frame


@pytest.mark.bpf
def test_refused_program_btf_is_a_clear_error_not_a_verdict():
    from kernel_loader import load

    blob, _ = _btf()
    broken = blob[:-3]  # string section cut short
    k = load(_loop_prog(True, btf=broken), log_level=2)
    assert k.verdict == "error" and k.stage == "program"
    assert k.message.startswith("program BTF refused by the kernel: BPF_BTF_LOAD failed")


# line_info records as the kernel checks them (string offset 1 is "int" in _btf())
LINE_INFO = {
    "one_per_function": (((0, 1, 1, 1 << 10), (8, 1, 1, 2 << 10)), "accept", ""),
    "callback_without_line": (((0, 1, 1, 1 << 10),), "reject", "missing bpf_line_info for 1 funcs starting from func#1"),
    "not_at_function_start": (((0, 1, 1, 1 << 10), (9, 1, 1, 2 << 10)), "reject", "missing bpf_line_info for func#1"),
    "out_of_order": (((0, 1, 1, 1 << 10), (8, 1, 1, 2 << 10), (2, 1, 1, 3 << 10)), "reject",
                     "Invalid line_info[2].insn_off:2 (prev_offset:8 prog->len:10)"),
    "past_the_end": (((0, 1, 1, 1 << 10), (8, 1, 1, 2 << 10), (20, 1, 1, 3 << 10)), "reject",
                     "Invalid line_info[2].insn_off:20 (prev_offset:8 prog->len:10)"),
    "bad_string": (((0, 1, 1, 1 << 10), (8, 1, 99999, 2 << 10)), "reject",
                   "Invalid line_info[1].line_off or .file_name_off"),
    "inside_ld_imm64": (((0, 1, 1, 1 << 10), (2, 1, 1, 1 << 10), (8, 1, 1, 2 << 10)), "reject",
                        "Invalid insn code at line_info[1].insn_off"),
}


@pytest.mark.parametrize("name", sorted(LINE_INFO))
def test_line_info_checks(name):
    li, verdict, message = LINE_INFO[name]
    r = verify(dataclasses.replace(_loop_prog(True), line_info=li), 2)
    assert (r.verdict, r.message or "") == (verdict, message)


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(LINE_INFO))
def test_line_info_against_kernel(name):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from kernel_compare import same_as_kernel

    same_as_kernel(dataclasses.replace(_loop_prog(True), line_info=LINE_INFO[name][0]))
