"""Global functions and func_info checks (pyverifier.progbtf, subprog.check_global_subprogs).

With BTF func_info a non-static function is verified once, on its own, after the main
program, with the arguments its prototype promises; a call of it only matches the caller's
registers against that prototype (``Caller passes invalid args into func#1 ('g')``) and gets
an unknown R0 back. Every program is compared in full (level-2 log, verdict, statistics)
with the live kernel.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from kernel_loader.btf import BtfBuilder
from pyverifier.insn import Insn as I
from pyverifier.insn import encode
from pyverifier.program import Program
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

GLOBAL, STATIC = 1, 0


def gprog(name, insns, funcs, ptype=1):
    """``funcs``: (first insn, name, linkage, parameters: "i" int, "v" void *, "c" struct __sk_buff *)."""
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    skb = b.struct("__sk_buff", [], size=192)
    fi = []
    for idx, fname, link, params in funcs:
        ps = [(f"a{j}", i if t == "i" else b.ptr(0) if t == "v" else b.ptr(skb)) for j, t in enumerate(params)]
        fi.append((idx, b.func(fname, b.func_proto(i, ps), linkage=link)))
    return Program(id=f"t/{name}", source="t", name=name, prog_type=ptype, insns=encode(insns), license="GPL",
                   btf=b.encode(), func_info=tuple(fi))


def CALL(off):
    return I(0x85, 0, 1, 0, off)


def MOV(d, imm):
    return I(0xB7, d, 0, 0, imm)


def MOVR(d, s):
    return I(0xBF, d, s, 0, 0)


EXIT = I(0x95, 0, 0, 0, 0)
MAIN = (0, "main", GLOBAL, "c")
PROGRAMS = {
    "scalar_arg": ([MOV(1, 21), CALL(1), EXIT, MOVR(0, 1), I(0x67, 0, 0, 0, 1), EXIT], [MAIN, (3, "g", GLOBAL, "i")]),
    "ptr_for_scalar": ([CALL(1), EXIT, MOVR(0, 1), EXIT], [MAIN, (2, "g", GLOBAL, "i")]),
    "ctx_arg": ([CALL(1), EXIT, I(0x61, 0, 1, 0, 0), EXIT], [MAIN, (2, "g", GLOBAL, "c")]),
    "scalar_for_ctx": ([MOV(1, 1), CALL(1), EXIT, I(0x61, 0, 1, 0, 0), EXIT], [MAIN, (3, "g", GLOBAL, "c")]),
    "returns_ptr": ([MOV(1, 1), CALL(1), EXIT, MOVR(0, 10), EXIT], [MAIN, (3, "g", GLOBAL, "i")]),
    "void_ptr_arg": ([MOVR(1, 10), CALL(1), EXIT, MOV(0, 0), EXIT], [MAIN, (3, "g", GLOBAL, "v")]),
    "global_calls_global": ([MOV(1, 2), CALL(2), MOV(0, 0), EXIT, CALL(1), EXIT, MOVR(0, 1), EXIT],
                            [MAIN, (4, "g", GLOBAL, "i"), (6, "h", GLOBAL, "i")]),
    "global_uses_stack": ([MOV(1, 2), CALL(1), EXIT, I(0x7B, 10, 1, -8, 0), I(0x79, 0, 10, -8, 0), EXIT],
                          [MAIN, (3, "g", GLOBAL, "i")]),
    "global_reads_uninit_stack": ([MOV(1, 2), CALL(1), EXIT, I(0x79, 0, 10, -8, 0), EXIT], [MAIN, (3, "g", GLOBAL, "i")]),
    "static_main_global_sub": ([MOV(1, 3), CALL(1), EXIT, MOVR(0, 1), EXIT],
                               [(0, "main", STATIC, "c"), (3, "g", GLOBAL, "i")]),
    # R0 of a global call made precise (a helper's size): backtracking stops at the call
    "precise_global_result": ([MOVR(6, 1), MOV(1, 1), CALL(10), MOVR(4, 0), I(0x57, 4, 0, 0, 7), I(0x07, 4, 0, 0, 1),
                               MOVR(1, 6), MOV(2, 0), MOVR(3, 10), I(0x07, 3, 0, 0, -8), I(0x85, 0, 0, 0, 26),
                               MOV(0, 0), EXIT, MOVR(0, 1), EXIT], [MAIN, (13, "g", GLOBAL, "i")]),
    # func_info that does not fit the program
    "count_mismatch": ([MOV(0, 0), EXIT, MOV(0, 1), EXIT], [MAIN, (2, "g", GLOBAL, "i")]),
    "layout_mismatch": ([MOV(1, 1), CALL(1), EXIT, MOVR(0, 1), EXIT], [MAIN, (2, "g", GLOBAL, "i")]),
    "first_nonzero": ([MOV(1, 1), CALL(1), EXIT, MOVR(0, 1), EXIT], [(1, "main", GLOBAL, "c"), (3, "g", GLOBAL, "i")]),
    "not_increasing": ([MOV(1, 1), CALL(1), EXIT, MOVR(0, 1), EXIT], [MAIN, (0, "g", GLOBAL, "i")]),
}


def _prog(name):
    return gprog(name, *PROGRAMS[name])


@pytest.mark.parametrize("name,verdict,message", [
    ("scalar_arg", "accept", ""),
    ("ptr_for_scalar", "reject", "Caller passes invalid args into func#1 ('g')"),
    ("returns_ptr", "reject", "At subprogram exit the register R0 is not a scalar value (fp)"),
    ("count_mismatch", "reject", "number of funcs in func_info doesn't match number of subprogs"),
    ("first_nonzero", "reject", "nonzero insn_off 1 for the first func info record"),
])
def test_global_function_verdicts(name, verdict, message):
    r = verify(_prog(name), 2)
    assert (r.verdict, r.message or "") == (verdict, message), r.log


def test_global_function_is_verified_after_main():
    log = verify(_prog("global_calls_global"), 2).log
    assert log.index("Func#1 ('g') is global and assumed valid.") < log.index("Validating g() func#1...") < \
        log.index("Validating h() func#2...") < log.index("Func#2 ('h') is safe for any args that match its prototype")
    assert verify(_prog("global_uses_stack"), 2).stack_depth == [0, 8]


def test_invalid_func_info_type_is_rejected():
    p = _prog("scalar_arg")
    p = dataclasses.replace(p, func_info=(p.func_info[0], (3, 1)))  # type 1 is the int, not a FUNC
    r = verify(p, 2)
    assert (r.verdict, r.message) == ("reject", "invalid type id 1 in func info")


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_kernel(name):
    same_as_kernel(_prog(name))


# LD_ABS in a subprogram may return 0 from it at once (a failed load): with BTF the
# subprogram must return an int, and the caller sees both outcomes; a tail call in a
# subprogram may return too, after the tail-called program changed the packet
LD_ABS_W0 = I(0x20, 0, 0, 0, 0)  # r0 = *(u32 *)skb[0]
SUBPROG_EXITS = {
    # the early-exit path returns 0 to a caller that then reads R9, which it never set
    "ld_abs_early_exit": ([CALL(4), I(0x55, 0, 0, 1, 0), MOVR(0, 9), MOV(0, 0), EXIT, MOVR(6, 1), LD_ABS_W0,
                          MOV(0, 1), EXIT], [(0, "main", STATIC, "c"), (5, "sub", STATIC, "c")]),
    "ld_abs_both_paths_safe": ([CALL(2), MOV(0, 0), EXIT, MOVR(6, 1), LD_ABS_W0, MOV(0, 1), EXIT],
                               [(0, "main", STATIC, "c"), (3, "sub", STATIC, "c")]),
}


def _void_sub_prog():
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    main = b.func("main", b.func_proto(i, [("c", b.ptr(0))]), linkage=STATIC)
    sub = b.func("sub", b.func_proto(0, []), linkage=STATIC)  # returns void
    insns = [CALL(2), MOV(0, 0), EXIT, MOVR(6, 1), LD_ABS_W0, MOV(0, 1), EXIT]
    return Program(id="t/void_sub", source="t", name="void_sub", prog_type=1, insns=encode(insns), license="GPL",
                   btf=b.encode(), func_info=((0, main), (3, sub)))


def test_ld_abs_needs_an_int_returning_subprogram():
    r = verify(_void_sub_prog(), 2)
    assert (r.verdict, r.message) == ("reject", "LD_ABS is only allowed in functions that return 'int'.")
    r = verify(gprog("e", *SUBPROG_EXITS["ld_abs_early_exit"]), 2)
    assert (r.verdict, r.message) == ("reject", "R9 !read_ok")
    assert verify(gprog("s", *SUBPROG_EXITS["ld_abs_both_paths_safe"]), 2).verdict == "accept"


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(SUBPROG_EXITS) + ["void_sub"])
def test_subprogram_exits_against_kernel(name):
    same_as_kernel(_void_sub_prog() if name == "void_sub" else gprog(name, *SUBPROG_EXITS[name]))


# pointers to memory as global function arguments (``int *p``): the callee gets mem_or_null(sz=4), or
# mem(sz=4) with an ``arg:nonnull`` decl tag; the caller's pointer must be readable and writable for 4 bytes
def mem_prog(name, insns, tag=None, ptype=1):
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    skb = b.struct("__sk_buff", [], size=192)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(skb))]), linkage=GLOBAL)
    g = b.func("g", b.func_proto(i, [("p", b.ptr(i))]), linkage=GLOBAL)
    if tag is not None:
        b.decl_tag(tag, g, 0)
    start = next(k for k, x in enumerate(insns) if x == "G")
    insns = [x for x in insns if x != "G"]
    return Program(id=f"t/{name}", source="t", name=name, prog_type=ptype, insns=encode(insns), license="GPL",
                   btf=b.encode(), func_info=((0, main), (start, g)))


STORE0 = I(0x62, 10, 0, -8, 0)  # *(u32 *)(r10 -8) = 0
FP8 = [MOVR(1, 10), I(0x07, 1, 0, 0, -8)]
DEREF = [I(0x61, 0, 1, 0, 0), EXIT]
MEM_PROGRAMS = {
    "stack_pointer": ([STORE0, *FP8, CALL(1), EXIT, "G", MOV(0, 0), EXIT], None),
    "null_pointer": ([MOV(1, 0), CALL(1), EXIT, "G", MOV(0, 0), EXIT], None),
    "callee_derefs_maybe_null": ([STORE0, *FP8, CALL(1), EXIT, "G", *DEREF], None),
    "callee_checks_null": ([STORE0, *FP8, CALL(1), EXIT, "G", MOV(0, 0), I(0x15, 1, 0, 1, 0), *DEREF], None),
    "too_small": ([STORE0, MOVR(1, 10), I(0x07, 1, 0, 0, -2), CALL(1), EXIT, "G", MOV(0, 0), EXIT], None),
    "uninit_stack": ([*FP8, CALL(1), EXIT, "G", MOV(0, 0), EXIT], None),
    "scalar_for_pointer": ([MOV(1, 8), CALL(1), EXIT, "G", MOV(0, 0), EXIT], None),
    "nonnull_deref": ([STORE0, *FP8, CALL(1), EXIT, "G", *DEREF], "arg:nonnull"),
    "nonnull_given_null": ([MOV(1, 0), CALL(1), EXIT, "G", *DEREF], "arg:nonnull"),
    "nullable_on_mem": ([STORE0, *FP8, CALL(1), EXIT, "G", *DEREF], "arg:nullable"),
    "unknown_tag": ([STORE0, *FP8, CALL(1), EXIT, "G", *DEREF], "arg:weird"),
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(MEM_PROGRAMS))
def test_global_function_memory_arguments(name):
    insns, tag = MEM_PROGRAMS[name]
    same_as_kernel(mem_prog(name, insns, tag))


# ``arg:trusted``: a global function taking a trusted pointer to a kernel struct (here the current task,
# in a tp_btf program); with ``arg:nullable`` too, NULL may be passed
def trusted_prog(name, insns, tags):
    from pyverifier import uapi

    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    task = b.struct("task_struct", [], size=8)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=GLOBAL)
    g = b.func("g", b.func_proto(i, [("task", b.ptr(task))]), linkage=GLOBAL)
    for tag in tags:
        b.decl_tag(tag, g, 0)
    start = next(k for k, x in enumerate(insns) if x == "G")
    insns = [x for x in insns if x != "G"]
    return Program(id=f"t/{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["tracing"],
                   expected_attach_type=uapi.ATTACH_TYPES["trace_raw_tp"], attach_to="sys_enter",
                   insns=encode(insns), license="GPL", btf=b.encode(), func_info=((0, main), (start, g)))


CURRENT = [I(0x85, 0, 0, 0, 158), MOVR(1, 0)]  # r1 = bpf_get_current_task_btf()
READ_PID = [I(0x61, 0, 1, 0, 0), EXIT]
TRUSTED_PROGRAMS = {
    "current_task": ([*CURRENT, CALL(1), EXIT, "G", *READ_PID], ["arg:trusted"]),
    "null_for_trusted": ([MOV(1, 0), CALL(1), EXIT, "G", *READ_PID], ["arg:trusted"]),
    "ctx_for_trusted": ([CALL(1), EXIT, "G", *READ_PID], ["arg:trusted"]),
    "null_for_nullable": ([MOV(1, 0), CALL(1), EXIT, "G", MOV(0, 0), I(0x15, 1, 0, 1, 0), *READ_PID],
                          ["arg:trusted", "arg:nullable"]),
    "nullable_unchecked": ([*CURRENT, CALL(1), EXIT, "G", *READ_PID], ["arg:trusted", "arg:nullable"]),
    "trusted_and_nonnull": ([*CURRENT, CALL(1), EXIT, "G", *READ_PID], ["arg:trusted", "arg:nonnull"]),
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(TRUSTED_PROGRAMS))
def test_global_function_trusted_arguments(name):
    import pyverifier.kbtf as kbtf
    from selftests.btf import kernel_btf

    insns, tags = TRUSTED_PROGRAMS[name]
    kbtf.set_provider(kernel_btf)
    try:
        same_as_kernel(trusted_prog(name, insns, tags))
    finally:
        kbtf.set_provider(None)
