"""Pointers to kernel objects (PTR_TO_BTF_ID, pyverifier.btf_access): every program compared with the kernel.

They come from socket-cast helpers (``bpf_skc_to_tcp_sock``), from reading a map pointer
(the kernel's ``struct bpf_array``) and from the netfilter context (``struct bpf_nf_ctx``).
Loads through them walk the object's BTF; the offsets in these programs are looked up
in the running kernel's BTF by field name, so the tests follow the kernel's layout.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

import pyverifier.kbtf as kbtf
from pyverifier import btf_access, uapi
from pyverifier.asm import assemble
from pyverifier.btf import STRUCT, UNION
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

VMLINUX = Path("/sys/kernel/btf/vmlinux")
needs_btf = pytest.mark.skipif(not VMLINUX.exists(), reason="no /sys/kernel/btf/vmlinux: the kernel has no BTF")


@pytest.fixture(scope="module")
def kb():
    from selftests.btf import kernel_btf

    kbtf.set_provider(kernel_btf)
    yield kernel_btf()
    kbtf.set_provider(None)


def off(btf, struct: str, field: str) -> int:
    """Byte offset of ``field`` in kernel ``struct`` (anonymous members searched too)."""

    def find(tid, base):
        _, t = btf.skip_mods_and_typedefs(tid)
        for i, (name, mtid, _) in enumerate(t.members):
            o = base + t.member_bit_offset(i) // 8
            if name == field:
                return o
            _, mt = btf.skip_mods_and_typedefs(mtid)
            if not name and mt.kind in (STRUCT, UNION):
                r = find(mtid, o)
                if r is not None:
                    return r
        return None

    r = find(btf.find(struct, STRUCT)[0], 0)
    assert r is not None, (struct, field)
    return r


SKC = """r1 = *(u64 *)(r1 +{sk})
if r1 != 0x0 goto have_sk
r0 = 0
exit
have_sk:
call bpf_skc_to_tcp_sock
if r0 != 0x0 goto have_tcp
r0 = 0
exit
have_tcp:
{body}
r0 = 0
exit
"""


def _tc(name: str, body: str, btf) -> Program:
    text = SKC.format(sk=uapi_sk_offset(), body=body.format(
        sk_socket=off(btf, "sock", "sk_socket"), sk_rcvbuf=off(btf, "sock", "sk_rcvbuf"),
        srtt=off(btf, "tcp_sock", "srtt_us")))
    return Program(id=f"t/{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["sched_cls"],
                   insns=encode(assemble(text)), license="GPL")


def uapi_sk_offset() -> int:
    return 168  # struct __sk_buff.sk (uapi, fixed)


TC_BODIES = {
    "scalar_field": "r2 = *(u32 *)(r0 +{srtt})",
    "nested_scalar": "r2 = *(u32 *)(r0 +{sk_rcvbuf})",
    "pointer_field": "r2 = *(u64 *)(r0 +{sk_socket})\nif r2 == 0x0 goto out\nr3 = *(u16 *)(r2 +0)\nout:",
    "pointer_field_narrow": "r2 = *(u32 *)(r0 +{sk_socket})",
    "negative_offset": "r2 = *(u32 *)(r0 -8)",
    "beyond_struct": "r0 += 32000\nr2 = *(u64 *)(r0 +32000)",
    "variable_offset": "r2 = *(u32 *)(r0 +0)\nr2 &= 8\nr0 += r2\nr2 = *(u32 *)(r0 +0)",
    "fixed_offset_added": "r0 += 8\nr2 = *(u32 *)(r0 +{srtt})",
    "release_the_cast": "r1 = r0\ncall bpf_sk_release",
    "skc_to_other_casts": "r6 = r0\nr1 = r0\ncall bpf_skc_to_tcp_request_sock\nr1 = r6\ncall bpf_skc_to_unix_sock",
    "non_gpl": "r2 = *(u32 *)(r0 +{srtt})",
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(TC_BODIES))
def test_socket_cast_pointers(name, kb):
    p = _tc(name, TC_BODIES[name], kb)
    if name == "non_gpl":
        p = dataclasses.replace(p, license="Dual BSD")  # not GPL-compatible: no reads of kernel structs
    same_as_kernel(p)


NF = """r2 = *(u64 *)(r1 +{field})
{body}
r0 = 1
exit
"""

NF_BODIES = {
    "skb_len": ("8", "r3 = *(u32 *)(r2 +{len})"),
    "skb_sk_rcu_or_null": ("8", "r3 = *(u64 *)(r2 +{skb_sk})\nr4 = *(u32 *)(r3 +0)"),
    "skb_sk_null_checked": ("8", "r3 = *(u64 *)(r2 +{skb_sk})\nif r3 == 0x0 goto out\nr4 = *(u32 *)(r3 +0)\nout:"),
    "skb_dev_in_union": ("8", "r3 = *(u64 *)(r2 +{skb_dev})\nr4 = *(u32 *)(r3 +0)\n*(u32 *)(r3 +0) = 1"),
    "skb_write": ("8", "*(u32 *)(r2 +{len}) = 1"),
    "state_sk_not_trusted": ("0", "r3 = *(u64 *)(r2 +{state_sk})\nr4 = *(u32 *)(r3 +0)"),
    "state_hook_bitfield_or_int": ("0", "r3 = *(u8 *)(r2 +0)"),
    "state_ptr_misaligned": ("0", "r3 = *(u64 *)(r2 +{state_sk_m})"),
    "state_beyond": ("0", "r3 = *(u64 *)(r2 +48)"),
    "hole": ("0", "r3 = *(u32 *)(r2 +4)"),
    "ctx_write": ("0", "*(u64 *)(r1 +0) = r2"),
    "ctx_narrow": ("0", "r3 = *(u32 *)(r1 +8)"),
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(NF_BODIES))
def test_netfilter_context_pointers(name, kb):
    field, body = NF_BODIES[name]
    st = off(kb, "nf_hook_state", "sk")
    text = NF.format(field=field, body=body.format(len=off(kb, "sk_buff", "len"), skb_sk=off(kb, "sk_buff", "sk"),
                                                   skb_dev=off(kb, "sk_buff", "dev"),
                                                   state_sk=st, state_sk_m=st + 4))
    if name == "ctx_write":
        text = "r2 = 0\n" + text.replace("r2 = *(u64 *)(r1 +0)\n", "")
    p = Program(id=f"t/nf_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["netfilter"],
                expected_attach_type=uapi.ATTACH_TYPES["netfilter"], insns=encode(assemble(text)), license="GPL")
    same_as_kernel(p)


MAP = MapSpec(name="arr", type=uapi.MAP_TYPES["array"], key_size=4, value_size=8, max_entries=4)
MAP_BODIES = {
    "max_entries": "r2 = *(u32 *)(r1 +{max_entries})",
    "ops_pointer": "r2 = *(u64 *)(r1 +{ops})\nr3 = *(u64 *)(r2 +0)",
    "inside_sha_array": "r2 = *(u32 *)(r1 +1)",
    "elem_size": "r2 = *(u32 *)(r1 +{elem_size})",
    "write": "*(u32 *)(r1 +{max_entries}) = 1",
    "negative": "r2 = *(u32 *)(r1 -4)",
    "beyond": "r2 = *(u64 *)(r1 +4096)",
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(MAP_BODIES))
def test_map_pointer_reads(name, kb):
    body = MAP_BODIES[name].format(max_entries=off(kb, "bpf_map", "max_entries"), ops=off(kb, "bpf_map", "ops"),
                                   elem_size=off(kb, "bpf_array", "elem_size"))
    text = f"r1 = map[0]\n{body}\nr0 = 0\nexit\n"
    p = Program(id=f"t/map_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["socket_filter"],
                insns=encode(assemble(text)), maps=[MAP], license="GPL")
    same_as_kernel(p)


@needs_btf
def test_walk_rules(kb):
    """The struct walk on its own: nested structs, arrays, pointers, holes, unions."""
    tcp = kb.find("tcp_sock", STRUCT)[0]
    sk_socket = off(kb, "sock", "sk_socket")
    kind, tid, flag, field = btf_access.struct_access(kb, tcp, sk_socket, 8)
    assert (kind, kb.type(tid).name, flag, field) == (btf_access.R.PTR_TO_BTF_ID, "socket", 0, "sk_socket")
    with pytest.raises(btf_access.WalkError) as e:
        btf_access.struct_access(kb, tcp, sk_socket + 4, 4)
    assert "cannot access ptr member sk_socket" in e.value.lines[-1]
    with pytest.raises(btf_access.WalkError) as e:
        btf_access.struct_access(kb, tcp, kb.type(tcp).size_type, 1)
    assert e.value.lines[-1].startswith("access beyond struct tcp_sock at off ")
    # every socket type starts with a sock_common: the release helper's non-strict match
    common = kb.find("sock_common", STRUCT)[0]
    assert btf_access.struct_ids_match(kb, tcp, 0, common, False) == (True, [])
    assert btf_access.struct_ids_match(kb, tcp, 0, common, True)[0] is False
    # skb->dev sits in a union of several members: what it points to is untrusted
    skb = kb.find("sk_buff", STRUCT)[0]
    kind, tid, flag, field = btf_access.struct_access(kb, skb, off(kb, "sk_buff", "dev"), 8)
    assert flag & btf_access.R.PTR_UNTRUSTED and kb.type(tid).name == "net_device"
    # an int field read whole is a scalar; a struct member at its start is walked into
    assert btf_access.struct_access(kb, skb, off(kb, "sk_buff", "len"), 4)[0] == btf_access.R.SCALAR


@needs_btf
def test_without_kernel_btf_not_modelled():
    from selftests.btf import kernel_btf

    kbtf.set_provider(None)
    try:
        text = SKC.format(sk=168, body="r2 = *(u32 *)(r0 +0)")
        p = Program(id="t/nobtf", source="t", name="nobtf", prog_type=uapi.PROG_TYPES["sched_cls"],
                    insns=encode(assemble(text)), license="GPL")
        r = verify(p, 1)
        assert r.verdict == "error" and r.message.startswith("not modelled: ")
    finally:
        kbtf.set_provider(kernel_btf)


# kptr fields in a map value (pyverifier.kptr): an unreferenced one at 0, a referenced one at 8
KPTR_PRELUDE = """r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[0]
call bpf_map_lookup_elem
if r0 != 0x0 goto have_value
exit
have_value:
r6 = r0
"""
KPTR_BODIES = {
    "load_unref": "r1 = *(u64 *)(r6 +0)\nif r1 == 0x0 goto out\nr2 = *(u32 *)(r1 +{pid})\nout:",
    "load_unref_unchecked": "r1 = *(u64 *)(r6 +0)\nr2 = *(u32 *)(r1 +{pid})",
    "load_ref_rcu": "r1 = *(u64 *)(r6 +8)\nif r1 == 0x0 goto out\nr2 = *(u64 *)(r1 +{parent})\nout:",
    "narrow_load": "r1 = *(u32 *)(r6 +0)",
    "misaligned": "r1 = *(u64 *)(r6 +4)",
    "store_null_unref": "r1 = 0\n*(u64 *)(r6 +0) = r1",
    "store_imm_nonzero": "*(u64 *)(r6 +0) = 1",
    "store_ref": "r1 = 0\n*(u64 *)(r6 +8) = r1",
    "store_loaded_unref": "r1 = *(u64 *)(r6 +0)\nif r1 == 0x0 goto out\n*(u64 *)(r6 +0) = r1\nout:",
    "store_current_task": "call bpf_get_current_task_btf\n*(u64 *)(r6 +0) = r0",
    "store_wrong_type": "r1 = *(u64 *)(r6 +0)\nif r1 == 0x0 goto out\nr1 = *(u64 *)(r1 +{mm})\n"
                        "if r1 == 0x0 goto out\n*(u64 *)(r6 +0) = r1\nout:",
    "xchg_unref": "r1 = r6\nr2 = 0\ncall bpf_kptr_xchg",
    "xchg_back": "r1 = r6\nr1 += 8\nr2 = 0\ncall bpf_kptr_xchg\nif r0 == 0x0 goto out\nr2 = r0\nr1 = r6\n"
                 "r1 += 8\ncall bpf_kptr_xchg\nout:",
    "xchg_unreferenced_value": "r1 = *(u64 *)(r6 +0)\nif r1 == 0x0 goto out\nr2 = r1\nr1 = r6\nr1 += 8\n"
                               "call bpf_kptr_xchg\nout:",
    "xchg_ref_leak": "r1 = r6\nr1 += 8\nr2 = 0\ncall bpf_kptr_xchg",
    "xchg_not_a_kptr": "r1 = r6\nr1 += 16\nr2 = 0\ncall bpf_kptr_xchg",
    "helper_reads_kptr": "r1 = r6\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel",
    "atomic_on_kptr": "r1 = 1\nlock *(u64 *)(r6 +0) += r1",
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(KPTR_BODIES))
def test_map_kptr_fields(name, kb):
    from kernel_loader.btf import BtfBuilder

    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    i64 = b.int("long", 8, signed=True)
    val = b.struct("val", [("unref", b.kptr("task_struct", "kptr_untrusted")),
                           ("ref", b.kptr("task_struct", "kptr")), ("n", i64)])
    spec = MapSpec("kp", uapi.MAP_TYPES["array"], 4, 24, 1, btf=b.encode(), btf_key_type_id=i32,
                   btf_value_type_id=val)
    body = KPTR_BODIES[name].format(pid=off(kb, "task_struct", "pid"), parent=off(kb, "task_struct", "parent"),
                                    mm=off(kb, "task_struct", "mm"))
    text = KPTR_PRELUDE + body + "\nr0 = 0\nexit\n"
    p = Program(id=f"t/kptr_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["sched_cls"],
                insns=encode(assemble(text)), maps=[spec], license="GPL")
    same_as_kernel(p)


# BTF tracepoints (pyverifier.tracing_ctx): the arguments, read through the kernel's BTF of the tracepoint
TP_PROGRAMS = {
    "sys_enter_regs": ("sys_enter", "r2 = *(u64 *)(r1 +0)\nr3 = *(u64 *)(r2 +{di})"),
    "sys_enter_id": ("sys_enter", "r2 = *(u64 *)(r1 +8)"),
    "sys_enter_id_narrow": ("sys_enter", "r2 = *(u32 *)(r1 +8)"),
    "pointer_narrow": ("sys_enter", "r2 = *(u32 *)(r1 +0)"),
    "not_multiple_of_8": ("sys_enter", "r2 = *(u32 *)(r1 +4)"),
    "past_the_arguments": ("sys_enter", "r2 = *(u64 *)(r1 +16)"),
    "far_past": ("sys_enter", "r2 = *(u64 *)(r1 +96)"),
    "ctx_write": ("sys_enter", "r2 = 0\n*(u64 *)(r1 +8) = r2"),
    "switch_prev_pid": ("sched_switch", "r2 = *(u64 *)(r1 +8)\nr3 = *(u32 *)(r2 +{pid})"),
    "switch_prev_parent": ("sched_switch", "r2 = *(u64 *)(r1 +8)\nr3 = *(u64 *)(r2 +{parent})\n"
                                           "r4 = *(u32 *)(r3 +{pid})"),
    "switch_prev_mm": ("sched_switch", "r2 = *(u64 *)(r1 +8)\nr3 = *(u64 *)(r2 +{mm})\nr4 = *(u64 *)(r3 +0)"),
    "switch_bool": ("sched_switch", "r2 = *(u8 *)(r1 +0)"),
    "kfree_skb_nullable_arg": ("kfree_skb", "r2 = *(u64 *)(r1 +24)\nr3 = *(u32 *)(r2 +0)"),
    "kfree_skb_checked": ("kfree_skb", "r2 = *(u64 *)(r1 +24)\nif r2 == 0x0 goto out\nr3 = *(u32 *)(r2 +0)\nout:"),
    "current_task": ("sys_enter", "call bpf_get_current_task_btf\nr2 = *(u32 *)(r0 +{pid})"),
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(TP_PROGRAMS))
def test_tp_btf_arguments(name, kb):
    tp, body = TP_PROGRAMS[name]
    body = body.format(di=off(kb, "pt_regs", "di"), pid=off(kb, "task_struct", "pid"),
                       parent=off(kb, "task_struct", "parent"), mm=off(kb, "task_struct", "mm"))
    text = body + "\nr0 = 0\nexit\n"
    p = Program(id=f"t/tp_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["tracing"],
                expected_attach_type=uapi.ATTACH_TYPES["trace_raw_tp"], attach_to=tp,
                insns=encode(assemble(text)), license="GPL")
    same_as_kernel(p)


@needs_btf
def test_tracing_programs_other_than_tp_btf_are_not_modelled(kb):
    p = Program(id="t/fentry", source="t", name="fentry", prog_type=uapi.PROG_TYPES["tracing"],
                expected_attach_type=uapi.ATTACH_TYPES["trace_fentry"], attach_to="vfs_read",
                insns=encode(assemble("r0 = 0\nexit\n")), license="GPL")
    r = verify(p, 1)
    assert r.verdict == "error" and r.message.startswith("not modelled: tracing programs of attach type")


# the buffer of a writable raw tracepoint (ctx->data)
TP_BUFFER_BODIES = {
    "read": "r2 = *(u64 *)(r1 +0)\nr3 = *(u64 *)(r2 +8)",
    "write": "r2 = *(u64 *)(r1 +0)\nr3 = 1\n*(u32 *)(r2 +4) = r3",
    "negative": "r2 = *(u64 *)(r1 +0)\nr3 = *(u8 *)(r2 -1)",
    "fixed_offset": "r2 = *(u64 *)(r1 +0)\nr2 += 16\nr3 = *(u16 *)(r2 +2)",
    "variable_offset": "r2 = *(u64 *)(r1 +0)\nr3 = *(u32 *)(r1 +8)\nr3 &= 7\nr2 += r3\nr3 = *(u8 *)(r2 +0)",
    "narrow_ctx": "r2 = *(u32 *)(r1 +0)",
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(TP_BUFFER_BODIES))
def test_raw_tracepoint_writable_buffer(name):
    text = TP_BUFFER_BODIES[name] + "\nr0 = 0\nexit\n"
    p = Program(id=f"t/tpbuf_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["raw_tracepoint_writable"],
                insns=encode(assemble(text)), license="GPL")
    same_as_kernel(p)


# BPF iterators (pyverifier.tracing_ctx, iter_args): the target's registered arguments and the meta
ITER_PROGRAMS = {
    "task_meta_seq": ("task", "r2 = *(u64 *)(r1 +0)\nr3 = *(u64 *)(r2 +0)"),
    "task_unchecked": ("task", "r2 = *(u64 *)(r1 +8)\nr3 = *(u32 *)(r2 +{pid})"),
    "task_checked": ("task", "r2 = *(u64 *)(r1 +8)\nif r2 == 0x0 goto out\nr3 = *(u32 *)(r2 +{pid})\nout:"),
    "past_the_arguments": ("task", "r2 = *(u64 *)(r1 +16)"),
    "seq_write": ("task", "r6 = *(u64 *)(r1 +0)\nr6 = *(u64 *)(r6 +0)\nr1 = 0\n*(u64 *)(r10 -8) = r1\n"
                          "r1 = r6\nr2 = r10\nr2 += -8\nr3 = 8\ncall bpf_seq_write"),
    "seq_write_wrong_object": ("task", "r6 = *(u64 *)(r1 +8)\nif r6 == 0x0 goto out\nr1 = 0\n"
                                       "*(u64 *)(r10 -8) = r1\nr1 = r6\nr2 = r10\nr2 += -8\nr3 = 8\n"
                                       "call bpf_seq_write\nout:"),
    "task_stack": ("task", "r6 = *(u64 *)(r1 +8)\nif r6 == 0x0 goto out\nr1 = r6\nr2 = r10\nr2 += -64\n"
                           "r3 = 64\nr4 = 0\ncall bpf_get_task_stack\nout:"),
    "file_fd": ("task_file", "r2 = *(u32 *)(r1 +16)\nr3 = *(u64 *)(r1 +24)"),
    "tcp_sk_common": ("tcp", "r2 = *(u64 *)(r1 +8)\nif r2 == 0x0 goto out\nr3 = *(u16 *)(r2 +{family})\nout:"),
    "unknown_target": ("bpf_sk_storage_map", "r2 = *(u64 *)(r1 +0)"),
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(ITER_PROGRAMS))
@pytest.mark.parametrize("ret", [0, 2])
def test_bpf_iterators(name, ret, kb):
    target, body = ITER_PROGRAMS[name]
    body = body.format(pid=off(kb, "task_struct", "pid"), family=off(kb, "sock_common", "skc_family"))
    text = body + f"\nr0 = {ret}\nexit\n"
    p = Program(id=f"t/iter_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["tracing"],
                expected_attach_type=uapi.ATTACH_TYPES["trace_iter"], attach_to=target,
                insns=encode(assemble(text)), license="GPL")
    if name == "unknown_target":  # a target that needs a map to load: not modelled, never a verdict
        r = verify(p, 1)
        assert r.verdict == "error" and "iterator target 'bpf_sk_storage_map'" in r.message
        return
    same_as_kernel(p)


# bpf_find_vma: its callback gets the task, the VMA (a pointer to the kernel's vm_area_struct) and a context
FIND_VMA = """call bpf_get_current_task_btf
r1 = r0
r2 = 0
r3 = func[cb]
r4 = 0
r5 = 0
call bpf_find_vma
r0 = 0
exit
cb:
{body}
exit
"""
FIND_VMA_BODIES = {
    "returns_zero": "r0 = 0",
    "reads_vm_start": "r0 = *(u64 *)(r2 +0)\nr0 = 0",
    "returns_two": "r0 = 2",
    "reads_null_ctx": "r0 = *(u64 *)(r3 +0)\nr0 = 0",
    "task_pid": "r0 = *(u32 *)(r1 +{pid})\nr0 = 0",
}


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(FIND_VMA_BODIES))
def test_find_vma_callback(name, kb):
    from kernel_loader.btf import BtfBuilder

    body = FIND_VMA_BODIES[name].format(pid=off(kb, "task_struct", "pid"))
    insns = assemble(FIND_VMA.format(body=body))
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=1)
    cb = b.func("cb", b.func_proto(i, [("task", b.ptr(0)), ("vma", b.ptr(0)), ("data", b.ptr(0))]), linkage=0)
    start = len(insns) - len(assemble(body + "\nexit\n"))  # the callback's first instruction
    p = Program(id=f"t/find_vma_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["tracing"],
                expected_attach_type=uapi.ATTACH_TYPES["trace_raw_tp"], attach_to="sys_enter",
                insns=encode(insns), license="GPL", btf=b.encode(), func_info=((0, main), (start, cb)))
    same_as_kernel(p)
