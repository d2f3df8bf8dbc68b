"""kernel_loader.vmlinux: attach_btf_id for tracing and LSM programs, resolved from the kernel's BTF."""
from __future__ import annotations

import os

import pytest

from kernel_loader import load
from kernel_loader.btf import FUNC_GLOBAL, BtfBuilder
from kernel_loader.vmlinux import (
    KIND_FUNC,
    KIND_TYPEDEF,
    VMLINUX_BTF,
    AttachTargetError,
    btf_name_and_kind,
    index_btf,
    resolve_attach_btf_id,
    vmlinux_index,
)
from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import Program

AT = uapi.ATTACH_TYPES
TRACING = uapi.PROG_TYPES["tracing"]
LSM = uapi.PROG_TYPES["lsm"]
needs_vmlinux = pytest.mark.skipif(not os.path.exists(VMLINUX_BTF), reason=f"{VMLINUX_BTF} is missing (no CONFIG_DEBUG_INFO_BTF)")


def tracing(at: str, target: str | None, prog_type: int = TRACING, text: str = "r0 = 0\nexit") -> Program:
    return Program(id=f"t/{at}-{target}", source="t", name=f"{at}_{target}", prog_type=prog_type,
                   insns=encode(assemble(text)), expected_attach_type=AT[at], attach_to=target)


def test_prefix_and_kind_follow_libbpf():
    assert btf_name_and_kind("sched_switch", AT["trace_raw_tp"]) == ("btf_trace_sched_switch", KIND_TYPEDEF)
    assert btf_name_and_kind("file_open", AT["lsm_mac"]) == ("bpf_lsm_file_open", KIND_FUNC)
    assert btf_name_and_kind("socket_bind", AT["lsm_cgroup"]) == ("bpf_lsm_socket_bind", KIND_FUNC)
    assert btf_name_and_kind("task", AT["trace_iter"]) == ("bpf_iter_task", KIND_FUNC)
    for at in ("trace_fentry", "trace_fexit", "modify_return"):
        assert btf_name_and_kind("do_unlinkat", AT[at]) == ("do_unlinkat", KIND_FUNC)


def test_index_takes_the_first_type_of_the_right_kind():
    b = BtfBuilder()
    i32 = b.int("int", 4)
    b.struct("bpf_iter_task", [("x", i32)])  # same name, other kind: not a match
    proto = b.func_proto(i32, [("ctx", i32)])
    f1 = b.func("bpf_iter_task", proto, FUNC_GLOBAL)
    b.func("bpf_iter_task", proto, FUNC_GLOBAL)
    td = b.typedef("btf_trace_x", b.ptr(proto))
    idx = index_btf(b.encode())
    assert idx[("bpf_iter_task", KIND_FUNC)] == f1
    assert idx[("btf_trace_x", KIND_TYPEDEF)] == td
    assert ("int", 1) not in idx  # only typedefs and funcs are indexed


def test_index_rejects_garbage():
    with pytest.raises(ValueError, match="shorter than its header"):
        index_btf(b"\x9f\xeb")
    with pytest.raises(ValueError, match="magic"):
        index_btf(bytes(24))


@needs_vmlinux
def test_vmlinux_names_resolve_to_the_right_kinds():
    idx = vmlinux_index()
    tid = resolve_attach_btf_id("sched_switch", AT["trace_raw_tp"])
    assert idx[("btf_trace_sched_switch", KIND_TYPEDEF)] == tid
    with pytest.raises(AttachTargetError, match="no function 'no_such_function_vd'"):
        resolve_attach_btf_id("no_such_function_vd", AT["trace_fentry"])


@pytest.mark.bpf
@needs_vmlinux
def test_tp_btf_and_iter_load_with_their_attach_btf_id():
    tp = load(tracing("trace_raw_tp", "sched_switch"))
    assert tp.verdict == "accept", tp.message
    assert tp.attach_btf_id == resolve_attach_btf_id("sched_switch", AT["trace_raw_tp"])
    it = load(tracing("trace_iter", "task"))
    assert it.verdict == "accept", it.message
    # the verifier reads the target's prototype: a tp_btf program reads its first argument
    reads = load(tracing("trace_raw_tp", "sched_switch", text="r2 = *(u64 *)(r1 +0)\nr0 = 0\nexit"))
    assert reads.verdict == "accept", reads.message
    past = load(tracing("trace_raw_tp", "sched_switch", text="r2 = *(u64 *)(r1 +4096)\nr0 = 0\nexit"))
    assert past.verdict == "reject" and past.stage == "verifier"


@pytest.mark.bpf
@needs_vmlinux
def test_unknown_target_is_an_attach_target_error():
    r = load(tracing("trace_fentry", "no_such_function_vd"))
    assert (r.verdict, r.stage) == ("error", "attach_target")
    assert "'no_such_function_vd' not found" in r.message


@pytest.mark.bpf
@needs_vmlinux
def test_fentry_and_lsm_are_never_a_silent_reject():
    """Where the kernel refuses fentry/LSM before its verifier (as on the 6.18 test VM), that is an error row."""
    for p in (tracing("trace_fentry", "do_unlinkat"), tracing("trace_fexit", "do_unlinkat"),
              tracing("lsm_mac", "file_open", prog_type=LSM)):
        r = load(p)
        assert r.attach_btf_id is not None
        if r.verdict == "error":
            assert r.stage == "load" and "before the verifier ran" in r.message, r.message
            assert not r.log
        else:
            assert r.verdict == "accept", r.message


def test_ext_and_struct_ops_say_what_is_missing():
    ext = Program(id="t/ext", source="t", name="ext", prog_type=uapi.PROG_TYPES["ext"],
                  insns=encode(assemble("r0 = 0\nexit")), attach_to="some_func")
    r = load(ext)
    assert (r.verdict, r.stage) == ("error", "attach_target") and "attach_prog_fd" in r.message
