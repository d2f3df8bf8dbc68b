"""The ELF importer: BPF objects (clang -target bpf) to Programs, relocated the way libbpf loads them.

The objects under tests/data/elf are compiled from selftests/elf_src (``python -m
selftests.elf_build --out tests/data/elf``) and checked in, so most tests need no
compiler. ``core_target.o`` is a made-up "kernel" whose BTF gives known offsets for
the CO-RE tests. Kernel tests (marked ``bpf``) compare the live kernel's verdict on
every imported program with what libbpf/bpftool get loading the same object.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyverifier import uapi
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import Program
from pyverifier.verifier import verify
from selftests import btf as B
from selftests.btf import Btf, BtfError, essential_name
from selftests.btf_ext import (
    ENUMVAL_EXISTS,
    ENUMVAL_VALUE,
    FIELD_BYTE_OFFSET,
    FIELD_EXISTS,
    TYPE_EXISTS,
    TYPE_MATCHES,
    TYPE_SIZE,
    CoreRelo,
)
from selftests.core_relo import POISON_IMM, CoreError, CoreResolver, patch_insn
from selftests.elf import ElfProblem, core_relocations, import_elf
from selftests.elf_externs import kernel_version
from selftests.elf_maps import BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, adjust_ringbuf_size, internal_map_name
from selftests.elf_secdef import btf_attach_name, find_sec_def

DATA = Path(__file__).parent / "data" / "elf"
SRC = Path(__file__).resolve().parents[1] / "selftests" / "elf_src"
OBJECTS = ["task_tracer", "xdp_filter", "socket_filter", "legacy_maps", "btf_features"]
KERNEL_BTF = Path("/sys/kernel/btf/vmlinux")
needs_kernel_btf = pytest.mark.skipif(not KERNEL_BTF.exists(), reason="no /sys/kernel/btf/vmlinux: CO-RE "
                                      "relocations cannot be resolved against the running kernel")

LD_IMM64 = 0x18
CALL = 0x85


def obj(name: str) -> Path:
    return DATA / f"{name}.o"


def section(path: Path, name: str) -> bytes:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        return ELFFile(f).get_section_by_name(name).data()


@pytest.fixture(scope="module")
def target_btf(tmp_path_factory) -> str:
    """The .BTF of core_target.o as a raw BTF file, the CO-RE target of the offline tests."""
    p = tmp_path_factory.mktemp("btf") / "target.btf"
    p.write_bytes(section(obj("core_target"), ".BTF"))
    return str(p)


def imported(name: str, **kw):
    progs, problems = import_elf(obj(name), **kw)
    return {p.name: p for p in progs}, problems


def fatal(problems: list[ElfProblem]) -> list[ElfProblem]:
    return [p for p in problems if p.fatal]


def map_refs(p) -> list[tuple[int, Insn, Insn]]:
    ins = p.decoded()
    return [(i, a, ins[i + 1]) for i, a in enumerate(ins) if a.code == LD_IMM64 and a.src in (1, 2)]


# --- section names ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sec, ptype, atype, attach_to, flags",
    [
        ("socket", "socket_filter", None, None, 0),
        ("xdp", "xdp", "xdp", None, 0),
        ("xdp.frags", "xdp", "xdp", None, uapi.PROG_FLAGS["xdp_has_frags"]),
        ("xdp/devmap", "xdp", "xdp_devmap", None, 0),
        ("tc", "sched_cls", None, None, 0),
        ("classifier", "sched_cls", None, None, 0),
        ("tc/ingress", "sched_cls", "tcx_ingress", None, 0),
        ("kprobe/do_sys_open", "kprobe", None, None, 0),
        ("kprobe", "kprobe", None, None, 0),
        ("kprobe.multi/foo*", "kprobe", "trace_kprobe_multi", None, 0),
        ("tracepoint/sched/sched_switch", "tracepoint", None, None, 0),
        ("tp/syscalls/sys_enter_open", "tracepoint", None, None, 0),
        ("raw_tp/sched_switch", "raw_tracepoint", None, None, 0),
        ("raw_tp.w/x", "raw_tracepoint_writable", None, None, 0),
        ("cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress", None, 0),
        ("cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", None, 0),
        ("tp_btf/sched_switch", "tracing", "trace_raw_tp", "sched_switch", 0),
        ("fentry/do_unlinkat", "tracing", "trace_fentry", "do_unlinkat", 0),
        ("fexit.s/do_unlinkat", "tracing", "trace_fexit", "do_unlinkat", uapi.PROG_FLAGS["sleepable"]),
        ("lsm/file_open", "lsm", "lsm_mac", "file_open", 0),
        ("iter/task", "tracing", "trace_iter", "task", 0),
        ("syscall", "syscall", None, None, uapi.PROG_FLAGS["sleepable"]),
        ("sk_lookup", "sk_lookup", "sk_lookup", None, 0),
    ],
)
def test_sec_def(sec, ptype, atype, attach_to, flags):
    sd = find_sec_def(sec)
    assert sd is not None
    assert sd.prog_type == uapi.prog_type_num(ptype)
    assert sd.expected_attach_type == (uapi.attach_type_num(atype) if atype else None)
    assert sd.attach_to == attach_to
    assert sd.prog_flags == flags
    assert sd.autoload


@pytest.mark.parametrize("sec", ["kprobex", "socket/x", "xdp_foo", "tcx", "", "cgroup_skb", "foo"])
def test_sec_def_no_match(sec):
    assert find_sec_def(sec) is None


def test_sec_def_optional_and_btf_names():
    sd = find_sec_def("?xdp")
    assert sd is not None and not sd.autoload and sd.prog_type == uapi.PROG_TYPES["xdp"]
    assert btf_attach_name("sched_switch", uapi.attach_type_num("trace_raw_tp")) == "btf_trace_sched_switch"
    assert btf_attach_name("file_open", uapi.attach_type_num("lsm_mac")) == "bpf_lsm_file_open"
    assert btf_attach_name("task", uapi.attach_type_num("trace_iter")) == "bpf_iter_task"
    assert btf_attach_name("do_unlinkat", uapi.attach_type_num("trace_fentry")) == "do_unlinkat"


# --- small pieces -------------------------------------------------------------------
def test_essential_name():
    assert essential_name("task_struct___old") == "task_struct"
    assert essential_name("a___b___c") == "a___b"
    assert essential_name("task_struct") == "task_struct"
    assert essential_name("foo____bar") == "foo____bar"  # X___Y needs non-underscores on both sides
    assert essential_name("__x___") == "__x___"


def test_internal_map_names_and_ringbuf_size():
    assert internal_map_name("task_tracer", ".rodata") == "task_tra.rodata"
    assert internal_map_name("task_tracer", ".bss") == "task_tra.bss"
    assert internal_map_name("x", ".data") == "x.data"
    assert internal_map_name("task_tracer", ".rodata.str1.1") == ".rodata.str1.1"
    assert internal_map_name("my-obj", ".data") == "my_obj.data"
    page = os.sysconf("SC_PAGE_SIZE")
    assert adjust_ringbuf_size(0) == 0
    assert adjust_ringbuf_size(page) == page
    assert adjust_ringbuf_size(page + 1) == 2 * page
    assert adjust_ringbuf_size(3 * page) == 4 * page
    assert adjust_ringbuf_size(1) == page


def test_kernel_version():
    assert kernel_version("6.18.44-fc-v782") == (6 << 16) + (18 << 8) + 44
    assert kernel_version("5.4.300") == (5 << 16) + (4 << 8) + 255
    assert kernel_version("6.1") == 0


# --- a tiny BTF writer for the CO-RE unit tests ------------------------------------
class BtfWriter:
    def __init__(self):
        self.types: list[bytes] = []
        self.strs = bytearray(b"\0")

    def s(self, name: str) -> int:
        if not name:
            return 0
        off = len(self.strs)
        self.strs += name.encode() + b"\0"
        return off

    def add(self, name: str, kind: int, vlen: int, size_type: int, extra: bytes = b"", kflag: bool = False) -> int:
        info = (kind << 24) | vlen | (1 << 31 if kflag else 0)
        self.types.append(struct.pack("<III", self.s(name), info, size_type) + extra)
        return len(self.types)

    def int_(self, name: str, size: int, signed: bool = False) -> int:
        return self.add(name, B.INT, 0, size, struct.pack("<I", (B.INT_SIGNED if signed else 0) << 24 | size * 8))

    def ptr(self, t: int) -> int:
        return self.add("", B.PTR, 0, t)

    def array(self, elem: int, n: int, index: int) -> int:
        return self.add("", B.ARRAY, 0, 0, struct.pack("<III", elem, index, n))

    def struct(self, name: str, size: int, members: list[tuple[str, int, int]]) -> int:
        body = b"".join(struct.pack("<III", self.s(n), t, off) for n, t, off in members)
        return self.add(name, B.STRUCT, len(members), size, body)

    def enum(self, name: str, values: list[tuple[str, int]]) -> int:
        body = b"".join(struct.pack("<Ii", self.s(n), v) for n, v in values)
        return self.add(name, B.ENUM, len(values), 4, body)

    def btf(self) -> Btf:
        types = b"".join(self.types)
        hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(self.strs))
        return Btf.parse(hdr + types + bytes(self.strs))


def local_and_target():
    lw = BtfWriter()
    u32 = lw.int_("unsigned int", 4)
    s32 = lw.int_("int", 4, signed=True)
    arr = lw.array(u32, 4, u32)
    s = lw.struct("s", 28, [("a", s32, 0), ("b", u32, 32), ("c", s32, 64), ("arr", arr, 96)])
    gone = lw.struct("s___gone", 4, [("missing", u32, 0)])
    e = lw.enum("e", [("A", 1), ("B", 2), ("Z", 9)])
    anon = lw.struct("", 4, [("a", u32, 0)])
    tw = BtfWriter()
    t_u64 = tw.int_("unsigned long", 8)
    t_s64 = tw.int_("long", 8, signed=True)
    t_u32 = tw.int_("unsigned int", 4)
    t_arr = tw.array(t_u64, 8, t_u32)
    ts = tw.struct("s", 96, [("pad", t_u64, 0), ("arr", t_arr, 64), ("c", t_s64, 576), ("b", t_u64, 640),
                             ("a", t_u32, 704)])
    tw.enum("e", [("B", 7), ("A", 1)])
    return lw.btf(), tw.btf(), dict(s=s, gone=gone, e=e, anon=anon, ts=ts)


LDX_W = 0x61  # r = *(u32 *)(r + off)
LDX_DW = 0x79


def relocate(local, target, relo, insns):
    res = CoreResolver(local, [target]).resolve(relo)
    insns = list(insns)
    note = patch_insn(insns, relo.insn_off // 8, res)
    return insns, note, res


def test_core_field_offset_and_load_size():
    local, target, ids = local_and_target()
    # s.b: unsigned int at 4 -> unsigned long at 80: offset patched, load widened (safe for unsigned)
    insns, note, res = relocate(local, target, CoreRelo(0, ids["s"], "0:1", FIELD_BYTE_OFFSET),
                                [Insn(LDX_W, 0, 1, 4, 0)])
    assert res.new_val == 80 and insns[0] == Insn(LDX_DW, 0, 1, 80, 0), note
    # s.c: signed int -> signed long: the load cannot be resized, libbpf poisons it
    insns, note, _ = relocate(local, target, CoreRelo(0, ids["s"], "0:2", FIELD_BYTE_OFFSET),
                              [Insn(LDX_W, 0, 1, 8, 0)])
    assert insns[0] == Insn(0x85, 0, 0, 0, POISON_IMM) and note.startswith("poisoned")
    # s.arr[2]: array elements grew from 4 to 8 bytes, the array moved to 8
    insns, _, res = relocate(local, target, CoreRelo(0, ids["s"], "0:3:2", FIELD_BYTE_OFFSET),
                             [Insn(LDX_W, 0, 1, 20, 0)])
    assert res.new_val == 8 + 2 * 8 and insns[0].off == 24 and insns[0].code == LDX_DW


def test_core_existence_size_and_poison():
    local, target, ids = local_and_target()
    mov = Insn(0xB7, 0, 0, 0, 1)  # r0 = 1
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["s"], "0:1", FIELD_EXISTS), [mov])
    assert insns[0].imm == 1
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["gone"], "0:0", FIELD_EXISTS), [mov])
    assert insns[0].imm == 0  # no candidate named s___gone's essential name "s" has 'missing'
    insns, note, res = relocate(local, target, CoreRelo(0, ids["gone"], "0:0", FIELD_BYTE_OFFSET),
                                [Insn(LDX_W, 0, 1, 0, 0)])
    assert res.poison and insns[0].imm == POISON_IMM and note.startswith("poisoned")
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["s"], "0", TYPE_SIZE), [Insn(0xB7, 0, 0, 0, 28)])
    assert insns[0].imm == 96
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["s"], "0", TYPE_EXISTS), [mov])
    assert insns[0].imm == 1
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["s"], "0", TYPE_MATCHES), [mov])
    assert insns[0].imm == 0  # member types differ in size: compatible, but no match


def test_core_enum_values():
    local, target, ids = local_and_target()
    ld = [Insn(LD_IMM64, 1, 0, 0, 2), Insn(0, 0, 0, 0, 0)]
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["e"], "1", ENUMVAL_VALUE), ld)
    assert insns[0].imm == 7 and insns[1].imm == 0
    insns, _, _ = relocate(local, target, CoreRelo(0, ids["e"], "2", ENUMVAL_EXISTS), [Insn(0xB7, 0, 0, 0, 1)])
    assert insns[0].imm == 0  # Z is not in the target enum


def test_core_errors():
    local, target, ids = local_and_target()
    # the instruction does not hold the value the local BTF says it should
    with pytest.raises(CoreError, match="unexpected insn"):
        relocate(local, target, CoreRelo(0, ids["s"], "0:1", FIELD_BYTE_OFFSET), [Insn(LDX_W, 0, 1, 12, 0)])
    with pytest.raises(CoreError, match="anonymous"):
        CoreResolver(local, [target]).resolve(CoreRelo(0, ids["anon"], "0:0", FIELD_BYTE_OFFSET))
    with pytest.raises(CoreError):
        CoreResolver(local, [target]).resolve(CoreRelo(0, ids["s"], "0:9", FIELD_BYTE_OFFSET))
    # two candidates (s and s___v2) disagreeing on where b is: libbpf refuses, so do we
    tw = BtfWriter()
    u = tw.int_("unsigned int", 4)
    tw.struct("s", 8, [("b", u, 0)])
    tw.struct("s___v2", 8, [("b", u, 32)])
    with pytest.raises(CoreError, match="ambiguity"):
        CoreResolver(local, [tw.btf()]).resolve(CoreRelo(0, ids["s"], "0:1", FIELD_BYTE_OFFSET))


def test_encode_subset_round_trip():
    local, _target, ids = local_and_target()
    blob, new = B.encode_subset(local, [ids["s"]])
    again = Btf.parse(blob)
    s = again.type(new[ids["s"]])
    assert s.name == "s" and [m[0] for m in s.members] == ["a", "b", "c", "arr"]
    assert again.resolve_size(new[ids["s"]]) == local.resolve_size(ids["s"]) == 28
    assert len(again) == 5  # void, s, unsigned int, int, the array: nothing it does not reference
    assert not again.find("e") and not again.find("s___gone")


def test_btf_parse_errors():
    with pytest.raises(BtfError, match="magic"):
        Btf.parse(b"\0" * 32)
    with pytest.raises(BtfError):
        Btf.parse(struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 100, 100, 1) + b"\0")
    good = local_and_target()[0]
    assert good.resolve_size(good.find("s")[0]) == 28


# --- importing the checked-in objects ---------------------------------------------
@needs_kernel_btf
def test_task_tracer_programs_and_maps():
    progs, problems = imported("task_tracer")
    assert not fatal(problems), problems
    assert sorted(progs) == ["handle_exec", "handle_exit", "trace_sendmsg"]
    exec_, exit_, kp = progs["handle_exec"], progs["handle_exit"], progs["trace_sendmsg"]
    assert exec_.prog_type == uapi.PROG_TYPES["tracepoint"]
    assert exit_.prog_type == uapi.PROG_TYPES["raw_tracepoint"]
    assert kp.prog_type == uapi.PROG_TYPES["kprobe"]
    assert exec_.license == "GPL" and exec_.id == "elf/task_tracer/handle_exec"
    assert {"subprog", "map", "global_data", "core", "helper"} <= set(exec_.tags)
    maps = {m.name: m for m in exec_.maps}
    assert set(maps) == {"events", "counters", "task_tra.rodata", "task_tra.data", "task_tra.bss"}
    assert [m.name for m in exec_.maps] == ["events", "counters", "task_tra.rodata", "task_tra.data", "task_tra.bss"]
    ev = maps["events"]
    assert (ev.type, ev.key_size, ev.value_size, ev.max_entries) == (uapi.MAP_TYPES["hash"], 4, 40, 1024)
    ctr = maps["counters"]
    assert (ctr.type, ctr.key_size, ctr.value_size, ctr.max_entries) == (uapi.MAP_TYPES["percpu_array"], 4, 8, 4)
    ro = maps["task_tra.rodata"]
    assert ro.frozen and ro.flags == BPF_F_RDONLY_PROG | BPF_F_MMAPABLE
    assert ro.init == struct.pack("<II", 0, 1) and ro.value_size == 8  # target_tgid = 0, sample_every = 1
    data = maps["task_tra.data"]
    assert data.init == struct.pack("<Q", 100) and not data.frozen and data.flags == BPF_F_MMAPABLE
    bss = maps["task_tra.bss"]
    assert bss.init is None and bss.value_size == 16
    rb = {m.name: m for m in exit_.maps}["rb"]
    assert rb.type == uapi.MAP_TYPES["ringbuf"] and rb.max_entries == adjust_ringbuf_size(10000)
    assert any("rounded up" in p.reason for p in problems)


@needs_kernel_btf
def test_map_and_global_data_relocations():
    progs, _ = imported("task_tracer")
    for p in progs.values():
        refs = map_refs(p)
        assert refs
        for _i, first, second in refs:
            assert 0 <= first.imm < len(p.maps)
            m = p.maps[first.imm]
            if first.src == 1:  # BPF_PSEUDO_MAP_FD: a map, whole
                assert not m.name.endswith((".rodata", ".data", ".bss")) and second.imm == 0
            else:  # BPF_PSEUDO_MAP_VALUE: offset into the single value of a global data map
                assert m.max_entries == 1 and 0 <= second.imm < m.value_size
    # sample_every is the second u32 of .rodata: some reference carries offset 4
    exec_ = progs["handle_exec"]
    ro = [m.name for m in exec_.maps].index("task_tra.rodata")
    assert {s.imm for _i, f, s in map_refs(exec_) if f.src == 2 and f.imm == ro} == {0, 4}


def symbol_sizes(path: Path) -> dict[str, int]:
    """Instruction counts of the functions of an object, from its symbol table."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        return {s.name: s["st_size"] // 8 for s in symtab.iter_symbols() if s["st_info"]["type"] == "STT_FUNC"}


@needs_kernel_btf
def test_subprograms_are_appended_and_calls_relative():
    sizes = symbol_sizes(obj("task_tracer"))
    progs, _ = imported("task_tracer")
    for name, subs in (("handle_exec", ["parent_tgid", "task_state", "bump"]), ("handle_exit", ["parent_tgid", "bump"]),
                       ("trace_sendmsg", ["bump"])):
        ins = progs[name].decoded()
        # the main function, then each subprogram it calls, once, in first-call order
        assert len(ins) == sizes[name] + sum(sizes[s] for s in subs), name
        starts, pos = [], sizes[name]
        for s in subs:
            starts.append(pos)
            pos += sizes[s]
        targets = [i + c.imm + 1 for i, c in enumerate(ins) if c.code == CALL and c.src == 1]
        assert targets and set(targets) == set(starts), name
        first_call_order = list(dict.fromkeys(targets))
        assert first_call_order == starts, name
        assert all(ins[t - 1].code in (0x95, 0x05) for t in starts)  # each follows an exit or a jump


def test_core_against_a_known_layout(target_btf):
    """Every CO-RE relocation of task_tracer.o against core_target.o's types, offsets written in its C."""
    applied, problems = core_relocations(obj("task_tracer"), target_btf)
    assert not fatal(problems)
    got = {(a.section, a.insn, a.kind): (a.new_val, a.poisoned, a.error) for a in applied}
    sec, text = "tracepoint/sched/sched_process_exec", ".text"
    expect = {
        (sec, 34, "byte_off"): 56,  # start_time
        (sec, 43, "byte_off"): 64,  # in_execve: the u32 holding bit 517
        (sec, 48, "byte_sz"): 4,
        (sec, 51, "lshift_u64"): 64 - (517 + 1 - 64 * 8),
        (sec, 52, "signed"): 0,
        (sec, 54, "rshift_u64"): 63,
        (sec, 58, "byte_sz"): 4,  # __state
        (text, 1, "byte_off"): 32,  # real_parent
        (text, 7, "byte_off"): 24,  # tgid
        (text, 17, "field_exists"): 1,  # task_struct___old.state exists in this "kernel"
        (text, 19, "byte_off"): 72,
        (text, 27, "byte_off"): 12,  # __state
        ("raw_tp/sched_process_exit", 0, "byte_off"): 0,  # args[0] of a flexible array
        ("raw_tp/sched_process_exit", 27, "type_size"): 80,
        ("raw_tp/sched_process_exit", 29, "type_exists"): 1,
        ("raw_tp/sched_process_exit", 35, "byte_off"): 40,  # comm
        ("kprobe/tcp_sendmsg", 0, "byte_off"): 0,  # pt_regs.di
        ("kprobe/tcp_sendmsg", 1, "byte_off"): 14,  # skc_family, through an anonymous struct
        ("kprobe/tcp_sendmsg", 3, "byte_off"): 8,  # pt_regs.dx
    }
    for key, value in expect.items():
        assert got.get(key) == (value, False, None), key
    # and the patched instructions are in the imported programs
    progs, _ = imported("task_tracer", kernel_btf_path=target_btf)
    kp = progs["trace_sendmsg"].decoded()
    assert kp[0].off == 0 and kp[3].off == 8  # r1 = ctx->di, ctx->dx


@needs_kernel_btf
def test_core_poisons_missing_field_on_the_running_kernel():
    """task_struct.state was renamed __state in 5.14: the guarded read is poisoned, as libbpf does."""
    applied, _ = core_relocations(obj("task_tracer"))
    state = [a for a in applied if "task_struct___old.state" in a.local]
    assert {a.kind for a in state} == {"field_exists", "byte_off"}
    assert [a.new_val for a in state if a.kind == "field_exists"] == [0]
    assert [a.poisoned for a in state if a.kind == "byte_off"] == [True]
    progs, problems = imported("task_tracer")
    assert any(POISON_IMM == x.imm and x.code == CALL for x in progs["handle_exec"].decoded())
    assert any("poisoned" in p.reason and not p.fatal for p in problems)


def test_core_unresolvable_without_target(tmp_path):
    progs, problems = import_elf(obj("task_tracer"), kernel_btf_path=str(tmp_path / "missing.btf"))
    assert not progs
    assert {p.program for p in fatal(problems)} == {"handle_exec", "handle_exit", "trace_sendmsg"}
    assert all("cannot read kernel BTF" in p.reason for p in fatal(problems))


def test_xdp_and_socket_objects():
    progs, problems = imported("xdp_filter")
    assert not fatal(problems)
    x = progs["xdp_filter"]
    assert x.prog_type == uapi.PROG_TYPES["xdp"] and x.expected_attach_type == uapi.attach_type_num("xdp")
    assert {m.name: m.type for m in x.maps} == {
        "verdicts": uapi.MAP_TYPES["percpu_array"], "blocked": uapi.MAP_TYPES["lru_hash"],
        "ports": uapi.MAP_TYPES["devmap"], "xdp_filt.rodata": uapi.MAP_TYPES["array"]}
    assert {m.name: m.flags for m in x.maps}["blocked"] == 2  # BPF_F_NO_COMMON_LRU
    assert progs["xdp_len"].prog_flags == uapi.PROG_FLAGS["xdp_has_frags"]
    assert progs["xdp_on_port"].expected_attach_type == uapi.attach_type_num("xdp_devmap")
    assert progs["xdp_on_port"].license == "Dual BSD/GPL"
    progs, problems = imported("socket_filter")
    assert not problems
    assert sorted(progs) == ["count_protocols", "tcp_port_only"]
    assert all(p.prog_type == uapi.PROG_TYPES["socket_filter"] for p in progs.values())
    assert any(i.code == 0x28 for i in progs["count_protocols"].decoded())  # LD_ABS half survives as is
    data = {m.name: m for m in progs["tcp_port_only"].maps}["socket_f.data"]
    assert data.init == struct.pack("<H", 22)


def test_legacy_maps_without_btf():
    progs, problems = imported("legacy_maps")
    assert not problems
    tc = progs["tc_account"]
    assert tc.prog_type == uapi.PROG_TYPES["sched_cls"]
    assert [(m.name, m.type, m.key_size, m.value_size, m.max_entries) for m in tc.maps] == [
        ("bytes_by_mark", uapi.MAP_TYPES["hash"], 4, 8, 1024)]
    cg = progs["cg_egress"]
    assert cg.expected_attach_type == uapi.attach_type_num("cgroup_inet_egress")
    assert [m.name for m in cg.maps] == ["totals"]
    assert not section_exists(obj("legacy_maps"), ".BTF")


def section_exists(path: Path, name: str) -> bool:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        return ELFFile(f).get_section_by_name(name) is not None


def test_what_needs_btf_is_reported():
    progs, problems = imported("btf_features", kconfig_text="CONFIG_HZ=100\nCONFIG_BPF_JIT=y\n")
    by_prog = {}
    for p in problems:
        by_prog.setdefault(p.program, []).append(p)
    # a callback cannot load without the program's BTF func_info: the program carries it,
    # one FUNC record per linked function, at each function's first instruction
    loop = progs["uses_loop"]
    assert "uses_loop" not in by_prog and "prog_btf" in loop.tags
    fbtf = Btf.parse(loop.btf)
    assert [fbtf.type(t).name for _, t in loop.func_info] == ["uses_loop", "add_one"]
    assert all(fbtf.type(t).kind == B.FUNC for _, t in loop.func_info)
    assert loop.func_info[0][0] == 0 and 0 < loop.func_info[1][0] < loop.insn_count
    assert Program.from_json(loop.to_json()) == loop
    # the spin lock map comes with the BTF of its key and value, re-encoded from the object's
    guarded = progs["uses_lock"].maps[0]
    assert guarded.name == "guarded" and guarded.btf is not None
    blob = Btf.parse(guarded.btf)
    value = blob.type(guarded.btf_value_type_id)
    assert value.name == "locked" and value.size_type == guarded.value_size
    assert [blob.type(m[1]).name for m in value.members][0] == "bpf_spin_lock"
    assert blob.type(guarded.btf_key_type_id).name == "__u32"
    assert all(m.btf is None for m in progs["uses_kconfig"].maps)  # only where the kernel needs it
    assert "prog_btf" in progs["uses_tail_call"].tags and "uses_tail_call" not in by_prog  # tail call in a subprogram
    # by default (as libbpf) every program has its BTF: the global function is verified as global
    assert progs["uses_global"].btf is not None and "uses_global" not in by_prog
    # without it, only where a program needs it: the global function is then verified as static (a note)
    progs2, problems2 = imported("btf_features", kconfig_text="CONFIG_HZ=100\nCONFIG_BPF_JIT=y\n", prog_btf=False)
    assert progs2["uses_global"].btf is None
    assert any(not p.fatal and "global function global_double" in p.reason for p in problems2
               if p.program == "uses_global")
    assert progs2["uses_loop"].btf is not None and progs2["uses_tail_call"].btf is not None
    on_switch = progs["on_switch"]
    assert on_switch.attach_to == "sched_switch"
    assert on_switch.expected_attach_type == uapi.attach_type_num("trace_raw_tp")
    assert progs["on_nanosleep"].attach_to == "do_nanosleep"


@needs_kernel_btf
def test_externs_kconfig_and_kfuncs():
    progs, problems = imported("btf_features", kconfig_text="CONFIG_HZ=100\nCONFIG_BPF_JIT=y\n")
    kc = progs["uses_kconfig"]
    kmap = {m.name: m for m in kc.maps}["btf_fea.kconfig"]
    assert kmap.frozen and kmap.flags == BPF_F_RDONLY_PROG | BPF_F_MMAPABLE
    # layout as libbpf: 4-byte CONFIG_HZ, LINUX_KERNEL_VERSION (by name), then the 1-byte bool
    hz, ver, jit = struct.unpack_from("<IIB", kmap.init)
    assert (hz, ver, jit) == (100, kernel_version(), 1) and len(kmap.init) == 9
    kidx = [m.name for m in kc.maps].index("btf_fea.kconfig")
    assert {s.imm for _i, f, s in map_refs(kc) if f.imm == kidx} == {0, 4, 8}
    kernel = B.kernel_btf()
    # the kfunc calls of on_switch carry the kernel's BTF ids
    kcalls = [i.imm for i in progs["on_switch"].decoded() if i.code == CALL and i.src == 2]
    assert kcalls == [kernel.find("bpf_task_acquire", B.FUNC)[0], kernel.find("bpf_task_release", B.FUNC)[0]]
    # a typed ksym variable is a BPF_PSEUDO_BTF_ID load of the kernel's VAR
    btf_ids = [i.imm for i in progs["uses_ksym"].decoded() if i.code == LD_IMM64 and i.src == 3]
    assert btf_ids == [kernel.find("bpf_prog_active", B.VAR)[0]]
    # a strong CONFIG_ extern missing from the config is an error for the program using it
    progs2, problems2 = imported("btf_features", kconfig_text="CONFIG_BPF_JIT=y\n")
    assert "uses_kconfig" not in progs2
    assert any(p.program == "uses_kconfig" and "CONFIG_HZ" in p.reason for p in problems2)


@pytest.mark.parametrize("name", OBJECTS)
def test_no_program_is_dropped_silently(name):
    """Every function of a program section is either imported or named in a fatal problem."""
    from elftools.elf.elffile import ELFFile

    with open(obj(name), "rb") as f:
        elf = ELFFile(f)
        mains = {s.name for s in elf.get_section_by_name(".symtab").iter_symbols()
                 if s["st_info"]["type"] == "STT_FUNC" and isinstance(s["st_shndx"], int)
                 and elf.get_section(s["st_shndx"]).name != ".text"}
    progs, problems = import_elf(obj(name), kernel_btf_path=str(KERNEL_BTF) if KERNEL_BTF.exists() else "/none")
    assert mains
    assert mains == {p.name for p in progs} | {p.program for p in problems if p.fatal}


def test_jsonl_round_trip(tmp_path):
    from selftests.corpus import load_corpus, write_jsonl
    from selftests.elf import main

    out = tmp_path / "elf.jsonl"
    rc = main([str(obj("socket_filter")), str(obj("legacy_maps")), "--out", str(out)])
    assert rc == 0
    progs, errors = load_corpus(out)
    assert not errors and sorted(p.id for p in progs) == [
        "elf/legacy_maps/cg_egress", "elf/legacy_maps/tc_account",
        "elf/socket_filter/count_protocols", "elf/socket_filter/tcp_port_only"]
    direct = {p.id: p for p in import_elf(obj("socket_filter"))[0]}
    for p in progs:
        if p.id in direct:
            assert p == direct[p.id]
    assert write_jsonl(progs, tmp_path / "again.jsonl") == 4


def test_cli_reports_problems(tmp_path, capsys):
    from selftests.elf import main

    bad = tmp_path / "bad.o"
    bad.write_bytes(b"garbage")
    rc = main([str(bad), str(obj("socket_filter")), "--out", str(tmp_path / "o.jsonl")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "bad.o: problem: not an ELF file" in out
    assert "count_protocols: imported as elf/socket_filter/count_protocols" in out


# --- files that are not (whole) BPF objects ------------------------------------------
def test_garbage_and_foreign_files(tmp_path):
    cases = {
        "empty.o": (b"", "empty file"),
        "text.o": (b"hello world\n" * 10, "not an ELF file"),
        "short.o": (b"\x7fELF\x02\x01\x01", "truncated"),
    }
    for name, (content, reason) in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        progs, problems = import_elf(p)
        assert progs == [] and len(problems) == 1 and problems[0].fatal and reason in problems[0].reason, name
    progs, problems = import_elf(tmp_path / "does-not-exist.o")
    assert progs == [] and "cannot read" in problems[0].reason
    host = shutil.which("true") or "/bin/true"
    progs, problems = import_elf(host)
    assert progs == [] and "not a BPF object" in problems[0].reason


@pytest.mark.parametrize("keep", [64, 100, 1000, 0.5, -1])
def test_truncated_objects(tmp_path, keep):
    data = obj("task_tracer").read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    p = tmp_path / "cut.o"
    p.write_bytes(data[:n])
    progs, problems = import_elf(p)
    assert progs == []
    assert problems and all(pr.fatal for pr in problems[:1])
    assert "truncated" in problems[0].reason


def test_unknown_section_name(tmp_path):
    """An executable section libbpf's SEC() table does not know: a problem naming the section."""
    from elftools.elf.elffile import ELFFile

    data = bytearray(obj("socket_filter").read_bytes())
    with open(obj("socket_filter"), "rb") as f:
        elf = ELFFile(f)
        shstr = elf.get_section(elf["e_shstrndx"])
        sec = next(s for s in elf.iter_sections() if s.name == "socket")
        off = shstr["sh_offset"] + sec["sh_name"]
    assert data[off : off + 7] == b"socket\0"
    data[off : off + 6] = b"sockex"
    p = tmp_path / "renamed.o"
    p.write_bytes(bytes(data))
    progs, problems = import_elf(p)
    assert progs == []
    per_prog = [pr for pr in problems if pr.fatal and pr.program]
    assert {pr.program for pr in per_prog} == {"count_protocols", "tcp_port_only"}
    assert all("'sockex' matches no libbpf SEC()" in pr.reason and pr.section == "sockex" for pr in per_prog)
    # its CO-RE relocations (the __sk_buff accesses) still name the old section: said, not ignored
    assert any(pr.program is None and "'socket'" in pr.reason for pr in problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1,
                max_size=8))
def test_corrupted_objects_never_raise(tmp_path, flips):
    data = bytearray(obj("xdp_filter").read_bytes())
    for pos, val in flips:
        data[pos % len(data)] = val
    p = tmp_path / "flipped.o"
    p.write_bytes(bytes(data))
    progs, problems = import_elf(p)  # must not raise
    for prog in progs:
        assert len(prog.insns) % 8 == 0
        for _i, first, _s in map_refs(prog):
            assert 0 <= first.imm < len(prog.maps)


# --- compiling the example sources -------------------------------------------------------
def _tools_missing() -> str | None:
    from selftests.elf_build import missing_tools

    return missing_tools()


@pytest.mark.skipif(_tools_missing() is not None, reason=f"cannot compile BPF objects: {_tools_missing()}")
@needs_kernel_btf
def test_compile_examples(tmp_path):
    """Compiling selftests/elf_src here gives objects importing the same programs as the checked-in ones."""
    from selftests.elf_build import build_object

    for name in OBJECTS:
        out = build_object(SRC / f"{name}.c", tmp_path / f"{name}.o")
        fresh, fresh_problems = import_elf(out)
        checked, checked_problems = import_elf(obj(name))
        key = lambda p: (p.name, p.prog_type, p.expected_attach_type, p.attach_to, p.prog_flags,  # noqa: E731
                         tuple((m.name.split(".")[-1], m.type, m.key_size, m.value_size, m.max_entries, m.flags)
                               for m in p.maps))
        assert sorted(map(key, fresh)) == sorted(map(key, checked)), name
        assert sorted((str(p.program), p.fatal) for p in fresh_problems) == \
            sorted((str(p.program), p.fatal) for p in checked_problems), name


# --- the live kernel against libbpf and bpftool -------------------------------------------
class Libbpf:
    """libbpf (the library bpftool uses) through ctypes: per-program loads and final instructions."""

    def __init__(self):
        self.lib = lib = ctypes.CDLL("libbpf.so.1", use_errno=True)
        vp = ctypes.c_void_p
        sig = {
            "bpf_object__open_file": (vp, [ctypes.c_char_p, vp]),
            "bpf_object__load": (ctypes.c_int, [vp]),
            "bpf_object__close": (None, [vp]),
            "bpf_object__next_program": (vp, [vp, vp]),
            "bpf_object__next_map": (vp, [vp, vp]),
            "bpf_program__name": (ctypes.c_char_p, [vp]),
            "bpf_program__set_autoload": (ctypes.c_int, [vp, ctypes.c_bool]),
            "bpf_program__insns": (vp, [vp]),
            "bpf_program__insn_cnt": (ctypes.c_size_t, [vp]),
            "bpf_program__type": (ctypes.c_int, [vp]),
            "bpf_program__expected_attach_type": (ctypes.c_int, [vp]),
            "bpf_program__flags": (ctypes.c_uint32, [vp]),
            "bpf_map__fd": (ctypes.c_int, [vp]),
            "bpf_map__name": (ctypes.c_char_p, [vp]),
            "bpf_map__type": (ctypes.c_int, [vp]),
            "bpf_map__key_size": (ctypes.c_uint32, [vp]),
            "bpf_map__value_size": (ctypes.c_uint32, [vp]),
            "bpf_map__max_entries": (ctypes.c_uint32, [vp]),
            "bpf_map__map_flags": (ctypes.c_uint32, [vp]),
            "bpf_map__initial_value": (vp, [vp, ctypes.POINTER(ctypes.c_size_t)]),
            "libbpf_set_print": (vp, [vp]),
        }
        for name, (res, args) in sig.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        lib.libbpf_set_print(None)  # quiet

    def load_one(self, path: Path, prog_name: str):
        """Load only ``prog_name`` of the object.

        Returns (rc, final instructions, {fd: map facts}, (type, expected attach type, flags)).
        """
        lib = self.lib
        o = lib.bpf_object__open_file(str(path).encode(), None)
        if not o:
            return None
        try:
            p, target = None, None
            while True:
                p = lib.bpf_object__next_program(o, p)
                if not p:
                    break
                mine = lib.bpf_program__name(p).decode() == prog_name
                lib.bpf_program__set_autoload(p, mine)
                if mine:
                    target = p
            facts = (lib.bpf_program__type(target), lib.bpf_program__expected_attach_type(target),
                     lib.bpf_program__flags(target))
            rc = lib.bpf_object__load(o)
            insns = decode(ctypes.string_at(lib.bpf_program__insns(target), 8 * lib.bpf_program__insn_cnt(target)))
            maps, m = {}, None
            while True:
                m = lib.bpf_object__next_map(o, m)
                if not m:
                    break
                sz = ctypes.c_size_t(0)
                init = lib.bpf_map__initial_value(m, ctypes.byref(sz))
                maps[lib.bpf_map__fd(m)] = (lib.bpf_map__name(m).decode(), lib.bpf_map__type(m),
                                            lib.bpf_map__key_size(m), lib.bpf_map__value_size(m),
                                            lib.bpf_map__max_entries(m), lib.bpf_map__map_flags(m),
                                            ctypes.string_at(init, sz.value) if init else None)
            return rc, insns, maps, facts
        finally:
            lib.bpf_object__close(o)


def _libbpf() -> Libbpf | None:
    try:
        return Libbpf()
    except (OSError, AttributeError):
        return None


LIBBPF_OBJECTS = [o for o in OBJECTS if o != "legacy_maps"]  # libbpf 1.x refuses legacy 'maps'


def _programs(names):
    out = []
    for name in names:
        for p in import_elf(obj(name))[0] if KERNEL_BTF.exists() else []:
            out.append(pytest.param(name, p.name, id=f"{name}/{p.name}"))
    return out


@pytest.mark.bpf
@pytest.mark.parametrize("objname, prog_name", _programs(LIBBPF_OBJECTS))
def test_same_instructions_maps_and_verdict_as_libbpf(objname, prog_name):
    """Instruction for instruction, the program libbpf loads; map for map; and the kernel's verdict."""
    from kernel_loader import load

    lb = _libbpf()
    if lb is None:
        pytest.skip("libbpf.so.1 is not loadable (apt-get install libbpf1)")
    progs, _ = imported(objname)
    p = progs[prog_name]
    ref = lb.load_one(obj(objname), prog_name)
    assert ref is not None, "libbpf could not open the object"
    rc, theirs, lmaps, (ptype, atype, flags) = ref
    # libbpf adds the SEC()-derived flags (sleepable, xdp_has_frags) only inside its load call
    load_time = uapi.PROG_FLAGS["sleepable"] | uapi.PROG_FLAGS["xdp_has_frags"]
    assert (p.prog_type, p.expected_attach_type or 0, p.prog_flags & ~load_time) == (ptype, atype, flags)
    mine = p.decoded()
    assert len(mine) == len(theirs)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a.code == LD_IMM64 and a.src in (1, 2) and b.imm in lmaps:
            spec = p.maps[a.imm]
            name, mtype, ksz, vsz, maxe, flags, init = lmaps[b.imm]
            assert (spec.name, spec.type, spec.key_size, spec.value_size, spec.max_entries, spec.flags) == \
                (name, mtype, ksz, vsz, maxe, flags), f"insn {i}: map differs from libbpf's"
            if spec.init is not None:
                assert init is not None and init[: len(spec.init)] == spec.init
            a, b = a._replace(imm=0), b._replace(imm=0)
        assert a == b, f"insn {i}: {a} != libbpf's {b}"
    res = load(p, log_level=1)
    if res.verdict == "error" and p.attach_to and "attach target" in (res.message or ""):
        pytest.skip(f"kernel_loader cannot load {p.attach_to!r}-attached programs yet: {res.message}")
    assert (res.verdict == "accept") == (rc == 0), f"kernel via kernel_loader: {res.verdict} {res.message}; " \
                                                   f"libbpf: {rc}"


def kernel_tags(program) -> set[str]:
    """The tag the kernel would give ``program``: a digest of its instructions with map fds/offsets zeroed.

    The digest is SHA-256 on recent kernels (6.18) and SHA-1 before; both are returned.
    """
    out, was_map = [], False
    for ins in program.decoded():
        if not was_map and ins.code == LD_IMM64 and ins.src in (1, 2):
            was_map, ins = True, ins._replace(imm=0)
        elif was_map and ins.code == 0 and ins.dst == 0 and ins.src == 0 and ins.off == 0:
            was_map, ins = False, ins._replace(imm=0)
        else:
            was_map = False
        out.append(ins)
    raw = encode(out)
    return {hashlib.sha256(raw).hexdigest()[:16], hashlib.sha1(raw).hexdigest()[:16]}


@pytest.fixture
def bpffs(tmp_path):
    """A private bpffs mount for bpftool pins; unmounted (pins gone) afterwards."""
    if shutil.which("bpftool") is None:
        pytest.skip("bpftool is not installed (apt-get install bpftool)")
    d = tmp_path / "bpffs"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "bpf", "bpf", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a bpffs for bpftool pins: {r.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)


@pytest.mark.bpf
@pytest.mark.parametrize("objname", OBJECTS)
def test_kernel_verdicts_match_bpftool_loadall(objname, bpffs):
    """``bpftool prog loadall OBJ DIR`` and kernel_loader.load on every imported program agree."""
    from kernel_loader import load

    pins = bpffs / objname
    r = subprocess.run(["bpftool", "prog", "loadall", str(obj(objname)), str(pins)], capture_output=True, text=True)
    progs, problems = imported(objname)
    verdicts = {name: load(p, log_level=1) for name, p in progs.items()}
    if r.returncode == 0:
        pinned = {e.name for e in pins.iterdir()}
        # bpftool loaded every program: each one we imported is accepted, and nothing was left out silently
        assert set(progs) | {p.program for p in problems if p.fatal} == pinned
        for name in pinned & set(progs):
            # the kernel's tag of what bpftool loaded is the digest of the same instructions as ours
            show = subprocess.run(["bpftool", "-j", "prog", "show", "pinned", str(pins / name)], capture_output=True,
                                  text=True)
            assert show.returncode == 0, show.stderr
            assert json.loads(show.stdout)["tag"] in kernel_tags(progs[name]), name
        for name, res in verdicts.items():
            if res.verdict == "error" and progs[name].attach_to:
                continue  # kernel_loader cannot attach through BTF yet (reported by the libbpf test)
            assert res.verdict == "accept", f"{name}: {res.verdict}: {res.message}"
        return
    err = r.stderr
    if "legacy map definitions" in err:
        # libbpf 1.x refuses the legacy 'maps' section outright; the importer reads it, and the kernel decides
        assert all(res.verdict == "accept" for res in verdicts.values()), verdicts
        return
    failed = set(re.findall(r"prog '([^']+)': failed to load", err))
    assert failed, err
    for name in failed:
        if name in verdicts:
            assert verdicts[name].verdict != "accept", f"bpftool failed to load {name}, kernel_loader accepted it"


# --- program BTF with line_info: both verifiers print the source lines -------------------------
def test_program_btf_carries_the_source_lines():
    progs, _ = imported("socket_filter")
    p = progs["count_protocols"]
    assert p.func_info == ((0, p.func_info[0][1]),) and p.line_info
    offs = [r[0] for r in p.line_info]
    assert offs[0] == 0 and offs == sorted(set(offs)) and offs[-1] < p.insn_count
    b = Btf.parse(p.btf)
    assert b.str_at(p.line_info[0][1]).endswith("socket_filter.c")
    assert "count_protocols" in b.str_at(p.line_info[0][2])
    log = verify(p, 2).log
    assert "; int count_protocols(struct __sk_buff *skb) @ socket_filter.c:" in log


def test_same_line_is_printed_once_whatever_its_column():
    from pyverifier.progbtf import LineInfo

    li = LineInfo([0, 2, 3, 5], ["a @ f.c:1\n", "b @ f.c:2\n", "b @ f.c:2\n", "c @ f.c:3\n"],
                  [(1, 1), (1, 2), (1, 2), (1, 3)])
    assert [li.line_for(i) for i in range(6)] == ["a @ f.c:1\n", None, "b @ f.c:2\n", None, None, "c @ f.c:3\n"]


@pytest.mark.bpf
@pytest.mark.parametrize("objname", OBJECTS)
def test_pyverifier_logs_equal_the_kernels_with_program_btf(objname):
    """Every program pyverifier models, imported with its BTF (func_info, line_info), gives the kernel's log."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from kernel_compare import same_as_kernel

    progs, _ = imported(objname, kconfig_text="CONFIG_HZ=100\nCONFIG_BPF_JIT=y\n")
    judged = 0
    for p in progs.values():
        if verify(p, 2).verdict == "error":
            continue  # not modelled (ksyms, tracing programs, kfuncs): named, not judged
        same_as_kernel(p)
        judged += 1
    assert judged


def test_btf_the_kernel_refuses_is_dropped_as_libbpf_does():
    """A FUNC with a typed but unnamed argument makes BPF_BTF_LOAD fail; libbpf then loads without BTF."""
    from kernel_loader.btf import BtfBuilder
    from selftests.btf import Btf
    from selftests.elf import kernel_refuses_btf

    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    b.func("named", b.func_proto(i, [("ctx", b.ptr(0))]))
    assert kernel_refuses_btf(Btf.parse(b.encode())) is None
    b.func("kfunc", b.func_proto(i, [("", b.ptr(0))]), linkage=2)  # extern: libbpf names its arguments
    assert kernel_refuses_btf(Btf.parse(b.encode())) is None
    b.func("naked", b.func_proto(i, [("", b.ptr(0))]))
    assert kernel_refuses_btf(Btf.parse(b.encode())) == "FUNC naked has an unnamed argument #1"
