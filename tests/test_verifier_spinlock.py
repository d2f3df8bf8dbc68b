"""Maps with BTF-described values: the BTF parser, the special-field record, bpf_spin_lock and bpf_timer.

- ``pyverifier.btf``: parsing raw blobs (as ``kernel_loader.btf.BtfBuilder`` writes them), sizes, lookups,
  ``encode_subset``, the header-only name index, malformed input;
- ``pyverifier.btf_fields``: the record the kernel computes for a map value (where locks and timers are,
  what it ignores, when its walk fails);
- verdicts and messages of small programs (unit), and (bpf-marked) their full level-1/2 logs against the
  live kernel: locking and unlocking, wrong pointers, calls and exits while a lock is held, LD_ABS, direct
  and helper access to the lock or timer, pruning with a held lock, global data (DATASEC) locks, the
  bpf_timer_* helpers and the program-type restrictions.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import struct

import pytest

from kernel_loader.btf import BtfBuilder
from pyverifier import btf as B
from pyverifier import btf_fields as F
from pyverifier.insn import decode
from pyverifier.program import MapSpec
from pyverifier.verifier import verify
from selftests.asmfile import parse_asm_text
from test_verifier import _norm as _norm_base


def _norm(log: str, insns) -> str:
    # the kernel prints direct map value references as addresses: the padding before ';' differs
    return re.sub(r"(\(18\) r\d+ = map_value\[\d+\]\+\d+) +;", r"\1 ;", _norm_base(log, insns))


# ---- BTF fixtures ----------------------------------------------------------------------------------
def _lock_btf():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])  # lock at 4, 8 bytes
    tv = b.struct("tv", [("a", i32), ("t", b.bpf_timer())])  # timer at 8, 24 bytes
    return b.encode(), i32, val, tv


BLOB, I32, VAL, TV = _lock_btf()


def _datasec_btf():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    v1, v2 = b.var("cnt", i32), b.var("lk", b.bpf_spin_lock())
    sec = b.datasec(".data", [(v1, 0, 4), (v2, 4, 4)], 8)
    return b.encode(), i32, sec


DBLOB, DI32, DSEC = _datasec_btf()


def _field_map(name: str, size: int):
    """BTF of ``struct v { int a; struct <name> f; }`` with an opaque ``struct <name>`` of ``size`` bytes."""
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    v = b.struct("v", [("a", i32), ("f", b.struct(name, [], size=size, align=8))])
    return b.encode(), i32, v


WQBLOB, WQI32, WQV = _field_map("bpf_wq", 16)  # wq at 8, 24 bytes
TWBLOB, TWI32, TWV = _field_map("bpf_task_work", 8)  # task work at 8, 16 bytes
RLBLOB, RLI32, RLV = _field_map("bpf_res_spin_lock", 8)

# name -> (header line, blob, key type id, value type id); maps without a blob have no BTF
MAPS = {
    "m": ("m type=array key=4 value=8 entries=1", BLOB, I32, VAL),
    "h": ("h type=hash key=4 value=8 entries=4", BLOB, I32, VAL),
    "t": ("t type=array key=4 value=24 entries=1", BLOB, I32, TV),
    "p": ("p type=array key=4 value=8 entries=1", None, 0, 0),
    "d": ("d type=array key=4 value=8 entries=1", DBLOB, DI32, DSEC),
    "w": ("w type=array key=4 value=24 entries=1", WQBLOB, WQI32, WQV),
    "k": ("k type=array key=4 value=16 entries=1", TWBLOB, TWI32, TWV),
    "r": ("r type=array key=4 value=16 entries=1", RLBLOB, RLI32, RLV),
}


def prog(text: str, maps: tuple[str, ...], prog_type: str = "sched_cls"):
    hdr = "".join(f"# map: {MAPS[n][0]}\n" for n in maps)
    p = parse_asm_text(f"# name: t\n# prog_type: {prog_type}\n{hdr}" + text)
    specs = []
    for spec, n in zip(p.maps, maps):
        _, blob, kid, vid = MAPS[n]
        if blob is not None:
            spec = dataclasses.replace(spec, btf=blob, btf_key_type_id=kid, btf_value_type_id=vid)
        specs.append(spec)
    return dataclasses.replace(p, maps=tuple(specs))


LOOK = ("r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[{m}]\ncall bpf_map_lookup_elem#1\n"
        "if r0 != 0 goto l\nexit\nl:\nr6 = r0\n")


def L(m: str = "m") -> str:
    return LOOK.format(m=m)


LOCK = "r1 = r6\nr1 += 4\ncall bpf_spin_lock#93\n"
UNLOCK = "r1 = r6\nr1 += 4\ncall bpf_spin_unlock#94\n"
RET = "r0 = 0\nexit\n"
TWO_LOOKUPS = ("r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[h]\ncall bpf_map_lookup_elem#1\n"
               "if r0 == 0 goto e\nr6 = r0\nr2 = r10\nr2 += -4\nr1 = map[h]\ncall bpf_map_lookup_elem#1\n"
               "if r0 == 0 goto e\nr7 = r0\n")

# name -> (program, maps, program type, verdict, message); messages are what the 6.18 kernel prints
CASES = {
    "lock_unlock": (L() + LOCK + "r0 = *(u32 *)(r6 +0)\n" + UNLOCK + RET, ("m",), "sched_cls", "accept", ""),
    "scalar_arg": (L() + "r1 = 0\ncall bpf_spin_lock#93\n" + RET, ("m",), "sched_cls", "reject",
                   "R1 type=scalar expected=map_value, ptr_"),
    "variable_offset": (L() + "r7 = *(u32 *)(r6 +0)\nr7 &= 4\nr1 = r6\nr1 += r7\ncall bpf_spin_lock#93\n" + RET,
                        ("m",), "sched_cls", "reject",
                        "R1 doesn't have constant offset. bpf_spin_lock has to be at the constant offset"),
    "map_without_btf": (L("p") + "r1 = r6\ncall bpf_spin_lock#93\n" + RET, ("p",), "sched_cls", "reject",
                        "map 'p' has to have BTF in order to use bpf_spin_lock"),
    "map_without_lock": (L("t") + "r1 = r6\ncall bpf_spin_lock#93\n" + RET, ("t",), "sched_cls", "reject",
                         "map 't' has no valid bpf_spin_lock"),
    "wrong_offset": (L() + "r1 = r6\ncall bpf_spin_lock#93\n" + RET, ("m",), "sched_cls", "reject",
                     "off 0 doesn't point to 'struct bpf_spin_lock' that is at 4"),
    "unlock_without_lock": (L() + UNLOCK + RET, ("m",), "sched_cls", "reject",
                            "bpf_spin_unlock without taking a lock"),
    "unlock_other_value": (TWO_LOOKUPS + "r1 = r6\nr1 += 4\ncall bpf_spin_lock#93\nr1 = r7\nr1 += 4\n"
                           "call bpf_spin_unlock#94\ne:\n" + RET, ("h",), "sched_cls", "reject",
                           "bpf_spin_unlock of different lock"),
    "same_value_two_lookups_ok": (TWO_LOOKUPS + "r1 = r6\nr1 += 4\ncall bpf_spin_lock#93\nr1 = r6\nr1 += 4\n"
                                  "call bpf_spin_unlock#94\ne:\n" + RET, ("h",), "sched_cls", "accept", ""),
    "double_lock": (L() + LOCK + LOCK + UNLOCK + RET, ("m",), "sched_cls", "reject",
                    "function calls are not allowed while holding a lock"),
    "helper_under_lock": (L() + LOCK + "call bpf_get_prandom_u32#7\n" + UNLOCK + RET, ("m",), "sched_cls",
                          "reject", "function calls are not allowed while holding a lock"),
    "tail_call_under_lock": (L() + LOCK + "call bpf_tail_call#12\n" + RET, ("m",), "sched_cls", "reject",
                             "function calls are not allowed while holding a lock"),
    "subprog_under_lock": (L() + LOCK + "call sub\n" + UNLOCK + RET + "sub:\n" + RET, ("m",), "sched_cls",
                           "accept", ""),
    "helper_in_subprog_under_lock": (L() + LOCK + "call sub\n" + UNLOCK + RET + "sub:\n"
                                     "call bpf_get_prandom_u32#7\n" + RET, ("m",), "sched_cls", "reject",
                                     "function calls are not allowed while holding a lock"),
    "lock_in_subprog_unlock_in_main": (L() + "r1 = r6\nr1 += 4\ncall sub\n" + UNLOCK + RET + "sub:\n"
                                       "call bpf_spin_lock#93\n" + RET, ("m",), "sched_cls", "accept", ""),
    "exit_with_lock": (L() + LOCK + RET, ("m",), "sched_cls", "reject",
                       "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"),
    "exit_subprog_with_lock_then_main": (L() + "r1 = r6\nr1 += 4\ncall sub\n" + RET + "sub:\n"
                                         "call bpf_spin_lock#93\n" + RET, ("m",), "sched_cls", "reject",
                                         "BPF_EXIT instruction in main prog cannot be used inside "
                                         "bpf_spin_lock-ed region"),
    "ld_abs_under_lock": ("r9 = r1\n" + L() + LOCK + "r6 = r9\nr0 = *(u8 *)skb[0]\nr6 = r7\n" + UNLOCK + RET,
                          ("m",), "sched_cls", "reject",
                          "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region"),
    "load_lock": (L() + "r0 = *(u32 *)(r6 +4)\n" + RET, ("m",), "sched_cls", "reject",
                  "bpf_spin_lock cannot be accessed directly by load/store"),
    "store_lock": (L() + "*(u32 *)(r6 +4) = 0\n" + RET, ("m",), "sched_cls", "reject",
                   "bpf_spin_lock cannot be accessed directly by load/store"),
    "wide_load_over_lock": (L() + "r0 = *(u64 *)(r6 +0)\n" + RET, ("m",), "sched_cls", "reject",
                            "bpf_spin_lock cannot be accessed directly by load/store"),
    "atomic_on_lock": (L() + "r1 = 1\nlock *(u32 *)(r6 +4) += r1\n" + RET, ("m",), "sched_cls", "reject",
                       "bpf_spin_lock cannot be accessed directly by load/store"),
    "variable_read_may_touch_lock": (L() + "r7 = *(u32 *)(r6 +0)\nr7 &= 3\nr1 = r6\nr1 += r7\n"
                                     "r0 = *(u8 *)(r1 +1)\n" + RET, ("m",), "sched_cls", "reject",
                                     "bpf_spin_lock cannot be accessed directly by load/store"),
    "variable_read_before_lock": (L() + "r7 = *(u32 *)(r6 +0)\nr7 &= 2\nr1 = r6\nr1 += r7\n"
                                  "r0 = *(u8 *)(r1 +0)\n" + RET, ("m",), "sched_cls", "accept", ""),
    "helper_reads_value_with_lock": (L() + "r1 = map[m]\nr2 = r10\nr2 += -4\nr3 = r6\nr4 = 0\n"
                                     "call bpf_map_update_elem#2\n" + RET, ("m",), "sched_cls", "reject",
                                     "bpf_spin_lock cannot be accessed directly by load/store"),
    "spilled_pointer_unlocks": (L() + LOCK + "r1 = r6\nr1 += 4\n*(u64 *)(r10 -16) = r1\nr1 = *(u64 *)(r10 -16)\n"
                                "call bpf_spin_unlock#94\n" + RET, ("m",), "sched_cls", "accept", ""),
    "prune_with_lock_held": (L() + LOCK + "r7 = *(u32 *)(r6 +0)\nif r7 > 5 goto a\nr8 = 1\ngoto b\na:\nr8 = 2\n"
                             "b:\n" + UNLOCK + RET, ("m",), "sched_cls", "accept", ""),
    "lock_on_one_path_only": (L() + "r7 = *(u32 *)(r6 +0)\nif r7 > 5 goto a\n" + LOCK + "a:\n" + UNLOCK + RET,
                              ("m",), "sched_cls", "reject", "bpf_spin_unlock without taking a lock"),
    "prune_tells_locked_values_apart": (TWO_LOOKUPS + "r8 = *(u32 *)(r6 +0)\nif r8 > 5 goto a\nr1 = r6\nr1 += 4\n"
                                        "call bpf_spin_lock#93\ngoto b\na:\nr1 = r7\nr1 += 4\n"
                                        "call bpf_spin_lock#93\nb:\nr1 = r6\nr1 += 4\ncall bpf_spin_unlock#94\n"
                                        "e:\n" + RET, ("h",), "sched_cls", "reject",
                                        "bpf_spin_unlock of different lock"),
    "lock_in_loop": (L() + "r7 = 0\nloop:\n" + LOCK + "r9 = *(u32 *)(r6 +0)\n" + UNLOCK +
                     "r7 += 1\nif r7 < 4 goto loop\n" + RET, ("m",), "sched_cls", "accept", ""),
    "hash_lookup_keeps_id": ("r1 = 0\n*(u32 *)(r10 -4) = r1\nr2 = r10\nr2 += -4\nr1 = map[h]\n"
                             "call bpf_map_lookup_elem#1\nif r0 == 0 goto e\nr6 = r0\n" + LOCK + UNLOCK +
                             "e:\n" + RET, ("h",), "sched_cls", "accept", ""),
    "socket_filter_refused": (L() + RET, ("m",), "socket_filter", "reject",
                              "socket filter progs cannot use bpf_spin_lock yet"),
    "kprobe_refused": (L() + RET, ("m",), "kprobe", "reject", "tracing progs cannot use bpf_spin_lock yet"),
    # global data: a lock in .data, reached by a direct value reference (id 0: no refs= is printed)
    "datasec_lock": ("r1 = map_value[d]+4\ncall bpf_spin_lock#93\nr1 = map_value[d]+0\nr0 = *(u32 *)(r1 +0)\n"
                     "r1 = map_value[d]+4\ncall bpf_spin_unlock#94\n" + RET, ("d",), "sched_cls", "accept", ""),
    "datasec_read_lock": ("r1 = map_value[d]+0\nr0 = *(u64 *)(r1 +0)\n" + RET, ("d",), "sched_cls", "reject",
                          "bpf_spin_lock cannot be accessed directly by load/store"),
    "datasec_exit_locked": ("r1 = map_value[d]+4\ncall bpf_spin_lock#93\n" + RET, ("d",), "sched_cls", "reject",
                            "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"),
    # bpf_timer
    "timer_helpers": (L("t") + "r1 = r6\nr1 += 8\nr2 = map[t]\nr3 = 1\ncall bpf_timer_init#169\nr1 = r6\n"
                      "r1 += 8\nr2 = 0\nr3 = 0\ncall bpf_timer_start#171\nr1 = r6\nr1 += 8\n"
                      "call bpf_timer_cancel#172\n" + RET, ("t",), "sched_cls", "accept", ""),
    "timer_other_map": (L("t") + "r1 = r6\nr1 += 8\nr2 = map[m]\nr3 = 1\ncall bpf_timer_init#169\n" + RET,
                        ("t", "m"), "sched_cls", "reject",
                        "timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0"),
    "timer_wrong_offset": (L("t") + "r1 = r6\nr2 = map[t]\nr3 = 1\ncall bpf_timer_init#169\n" + RET, ("t",),
                           "sched_cls", "reject", "off 0 doesn't point to 'struct bpf_timer' that is at 8"),
    "timer_callback_not_func": (L("t") + "r1 = r6\nr1 += 8\nr2 = 0\ncall bpf_timer_set_callback#170\n" + RET,
                                ("t",), "sched_cls", "reject", "R2 type=scalar expected=func"),
    "timer_map_without_timer": (L("m") + "r1 = r6\nr2 = map[m]\nr3 = 1\ncall bpf_timer_init#169\n" + RET, ("m",),
                                "sched_cls", "reject", "map 'm' has no valid bpf_timer"),
    "timer_variable_offset": (L("t") + "r7 = *(u32 *)(r6 +0)\nr7 &= 8\nr1 = r6\nr1 += r7\n"
                              "call bpf_timer_cancel#172\n" + RET, ("t",), "sched_cls", "reject",
                              "R1 doesn't have constant offset. bpf_timer has to be at the constant offset"),
    "timer_map_without_btf": (L("p") + "r1 = r6\ncall bpf_timer_cancel#172\n" + RET, ("p",), "sched_cls",
                              "reject", "map 'p' has to have BTF in order to use bpf_timer"),
    "timer_direct_load": (L("t") + "r0 = *(u64 *)(r6 +8)\n" + RET, ("t",), "sched_cls", "reject",
                          "bpf_timer cannot be accessed directly by load/store"),
    "timer_around_field_ok": (L("t") + "r0 = *(u32 *)(r6 +0)\nr0 = *(u32 *)(r6 +4)\n" + RET, ("t",),
                              "sched_cls", "accept", ""),
    "timer_tracing_refused": (L("t") + RET, ("t",), "perf_event", "reject", "tracing progs cannot use bpf_timer yet"),
    # bpf_wq and bpf_task_work: no direct access; bpf_wq not in tracing programs
    "wq_direct_load": (L("w") + "r0 = *(u32 *)(r6 +8)\n" + RET, ("w",), "sched_cls", "reject",
                       "bpf_wq cannot be accessed directly by load/store"),
    "wq_tracing_refused": (L("w") + RET, ("w",), "kprobe", "reject", "tracing progs cannot use bpf_wq yet"),
    "wq_socket_filter_ok": (L("w") + "r0 = *(u32 *)(r6 +0)\n" + RET, ("w",), "socket_filter", "accept", ""),
    "task_work_direct_store": (L("k") + "*(u64 *)(r6 +8) = 0\n" + RET, ("k",), "sched_cls", "reject",
                               "bpf_task_work cannot be accessed directly by load/store"),
    "task_work_tracing_ok": (L("k") + RET, ("k",), "kprobe", "accept", ""),
}


@pytest.mark.parametrize("name", list(CASES))
def test_verdict_and_message(name):
    text, maps, ptype, verdict, message = CASES[name]
    r = verify(prog(text, maps, ptype))
    assert (r.verdict, r.message or "") == (verdict, message), r.log[-2000:]


def test_state_lines_show_the_lock_and_the_value_id():
    r = verify(prog(CASES["lock_unlock"][0], ("m",)))
    log = r.log
    assert "R0=map_value(id=1,map=m,ks=4,vs=8)" in log  # an array lookup that cannot fail keeps an id
    assert re.search(r"call bpf_spin_lock#93 +; refs=1\n", log)
    assert re.search(r"call bpf_spin_unlock#94 +;\n", log)


def test_direct_reference_lock_prints_no_refs():
    r = verify(prog(CASES["datasec_lock"][0], ("d",)))
    assert r.verdict == "accept"
    assert "refs=" not in r.log


def test_res_spin_lock_maps_are_not_modelled():
    r = verify(prog(L("r") + RET, ("r",)))
    assert (r.verdict, r.message) == ("error", "not modelled: map value bpf_res_spin_lock fields (map 'r')")


def test_unmodelled_fields_stay_not_modelled():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("v", [("p", b.kptr("task_struct", "percpu_kptr"))])
    spec = MapSpec("k", 2, 4, 8, 1, btf=b.encode(), btf_key_type_id=i32, btf_value_type_id=val)
    p = dataclasses.replace(prog("r1 = map[m]\n" + RET, ("m",)), maps=(spec,))
    r = verify(p)
    assert r.verdict == "error"
    assert r.message == "not modelled: map value percpu_kptr fields (map 'k')"
    # a program that never refers to the map is judged
    assert verify(dataclasses.replace(p, insns=prog(RET, ()).insns)).verdict == "accept"


@pytest.mark.bpf
@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_against_kernel(name, level):
    from kernel_loader import load

    text, maps, ptype, _verdict, _message = CASES[name]
    p = prog(text, maps, ptype)
    k = load(p, log_level=level | 4)
    assert k.verdict in ("accept", "reject"), k.message
    r = verify(p, level | 4)
    assert (r.verdict, r.errno, r.message) == (k.verdict, k.errno, k.message)
    kl, pl = _norm(k.log, decode(p.insns)), _norm(r.log, decode(p.insns))
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier"))


# ---- pyverifier.btf ----------------------------------------------------------------------------------
def test_parse_builder_blob():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    u8 = b.int("unsigned char", 1, char=True)
    arr = b.array(u8, 6)
    s = b.struct("s", [("a", i32), ("b", arr), ("c", b.ptr(i32))])
    td = b.typedef("s_t", b.const(s))
    e = b.enum("e", [("X", 1), ("Y", -1)], signed=True)
    btf = B.Btf.parse(b.encode())
    assert btf.type(i32).kind == B.INT and btf.type(i32).extra == (B.INT_SIGNED, 0, 32)
    st = btf.type(s)
    assert (st.kind_name, st.name, st.vlen) == ("struct", "s", 3)
    assert [m[0] for m in st.members] == ["a", "b", "c"]
    assert [st.member_bit_offset(i) for i in range(3)] == [0, 32, 128]
    assert btf.resolve_size(arr) == 6
    assert btf.resolve_size(s) == st.size_type == 24
    assert btf.resolve_size(td) == 24
    assert btf.skip_mods_and_typedefs(td) == (s, st)
    assert btf.type(e).members == (("X", 1), ("Y", -1))
    assert btf.find("s", B.STRUCT) == [s]
    assert btf.type_str(s) == f"[{s}] struct s"


def test_encode_subset_round_trip():
    btf = B.Btf.parse(BLOB)
    blob, ids = B.encode_subset(btf, [VAL])
    sub = B.Btf.parse(blob)
    t = sub.type(ids[VAL])
    assert t.name == "val" and sub.resolve_size(ids[VAL]) == 8
    assert sub.type(t.members[1][1]).name == "bpf_spin_lock"
    assert len(sub) == 4  # void, val, int, bpf_spin_lock: tv and bpf_timer are left out


def test_index_names_reads_headers_only():
    b = BtfBuilder()
    i32 = b.int("int", 4)
    proto = b.func_proto(i32, [("x", i32)])
    f = b.func("f", proto)
    td = b.typedef("t", i32)
    idx = B.index_names(b.encode(), frozenset((B.FUNC, B.TYPEDEF)))
    assert idx == {("f", B.FUNC): f, ("t", B.TYPEDEF): td}


@pytest.mark.parametrize("data, msg", [
    (b"\x9f\xeb", "shorter than its 24-byte header"),
    (struct.pack("<HBBIIIII", 0x1234, 1, 0, 24, 0, 0, 0, 0), "bad BTF magic"),
    (struct.pack("<HBBIIIII", 0xEB9F, 2, 0, 24, 0, 0, 0, 0), "unsupported BTF version 2"),
    (struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 12, 12, 1) + struct.pack("<III", 0, 1 << 24, 4) + b"\0",
     "truncated BTF type"),
    (struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 100, 0, 1) + b"\0", "run past the data"),
])
def test_malformed_blobs(data, msg):
    with pytest.raises(B.BtfError, match=re.escape(msg)):
        B.Btf.parse(data)


def test_selftests_btf_reexports_the_parser():
    import selftests.btf as S

    assert S.Btf is B.Btf and S.BtfError is B.BtfError and S.encode_subset is B.encode_subset
    assert callable(S.kernel_btf)


# ---- pyverifier.btf_fields -----------------------------------------------------------------------------
def _record(build):
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    vid, size = build(b, i32)
    btf = B.Btf.parse(b.encode())
    return F.parse_record(btf, vid, size)


def test_record_of_lock_and_timer():
    rec = _record(lambda b, i: (b.struct("v", [("a", i), ("l", b.bpf_spin_lock()), ("t", b.bpf_timer())]), 24))
    assert rec.spin_lock_off == 4 and rec.timer_off == 8
    assert [(f.kind, f.offset, f.size) for f in rec.fields] == [("bpf_spin_lock", 4, 4), ("bpf_timer", 8, 16)]


def test_record_nested_struct_shifts_offsets():
    def build(b, i):
        inner = b.struct("in", [("x", i), ("l", b.bpf_spin_lock())])
        return b.struct("v", [("a", i), ("n", inner)]), 12
    assert _record(build).spin_lock_off == 8


@pytest.mark.parametrize("wrap", ["typedef", "const", "union", "int"])
def test_record_ignores_what_the_kernel_ignores(wrap):
    def build(b, i):
        sl = b.bpf_spin_lock()
        m = {"typedef": lambda: b.typedef("lock_t", sl), "const": lambda: b.const(sl),
             "union": lambda: b.union("u", [("l", sl), ("x", i)]), "int": lambda: i}[wrap]()
        return b.struct("v", [("a", i), ("l", m)]), 8
    assert _record(build) is None


def test_record_ignores_a_misnamed_struct_of_another_size():
    assert _record(lambda b, i: (b.struct("v", [("t", b.struct("bpf_timer", [("x", i)]))]), 4)) is None


@pytest.mark.parametrize("shape", ["array_of_locks", "two_locks"])
def test_record_walk_failures(shape):
    def build(b, i):
        sl = b.bpf_spin_lock()
        if shape == "array_of_locks":
            return b.struct("v", [("a", i), ("l", b.array(sl, 2))]), 12
        return b.struct("v", [("a", sl), ("l", sl)]), 8
    with pytest.raises(F.FieldsError):
        _record(build)


def test_record_of_nested_locks_keeps_the_last():
    def build(b, i):
        sl = b.bpf_spin_lock()
        return b.struct("v", [("x", b.struct("a", [("l", sl)])), ("y", b.struct("c", [("l", sl)]))]), 8
    rec = _record(build)
    assert rec.spin_lock_off == 4 and [f.offset for f in rec.fields] == [0, 4]


def test_record_of_datasec():
    rec = F.parse_record(B.Btf.parse(DBLOB), DSEC, 8)
    assert rec.spin_lock_off == 4


def test_record_of_kptrs():
    def build(b, i):
        return b.struct("v", [("p", b.kptr("task_struct")), ("q", b.kptr("task_struct", "kptr_untrusted"))]), 16
    assert [f.kind for f in _record(build).fields] == ["kptr", "kptr_untrusted"]


def test_map_record_reasons():
    ok = MapSpec("m", 2, 4, 8, 1, btf=BLOB, btf_key_type_id=I32, btf_value_type_id=VAL)
    rec, issue, refused = F.map_record(ok)
    assert rec.spin_lock_off == 4 and issue is None and not refused
    _, issue, refused = F.map_record(dataclasses.replace(ok, value_size=16))
    assert refused and "value size differs" in issue
    _, issue, refused = F.map_record(dataclasses.replace(ok, type=9))  # lru_hash cannot hold a lock
    assert refused and "map of type 9" in issue
    _, issue, refused = F.map_record(dataclasses.replace(ok, btf=b"\x9f\xeb\x01\x00"))
    assert refused and issue.startswith("maps with BTF that cannot be parsed")
    assert F.map_record(dataclasses.replace(ok, btf_value_type_id=I32, value_size=4)) == (None, None, False)


def test_map_in_map_inner_template_keeps_its_fields_apart():
    from pyverifier.maps import MapInfo

    inner = MapSpec("in", 2, 4, 8, 1, btf=BLOB, btf_key_type_id=I32, btf_value_type_id=VAL)
    outer = MapSpec("out", 12, 4, 4, 1, inner=inner)
    mi = MapInfo.from_spec(0, outer)
    assert (mi.btf, mi.record, mi.init, mi.frozen) == (False, None, None, False)
    assert mi.inner.index == -1 and mi.inner.init is None and mi.inner.has_lock
    assert mi.inner.record.spin_lock_off == 4
