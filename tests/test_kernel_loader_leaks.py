"""10,000 loads leave nothing behind: no fd in this process, no program, map or BTF object in the kernel.

Objects are recognised by a name unique to this test run (programs and maps by
name, BTF objects by a struct name inside their data), so programs other
processes load meanwhile cannot disturb the count.
"""
from __future__ import annotations

import os
import time

import pytest

from kernel_loader import load
from kernel_loader.btf import BtfBuilder
from kernel_loader.info import btf_data_by_id, btf_ids, map_ids, map_name_by_id, prog_ids, prog_name_by_id
from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program

LOADS = 10_000
TAG = f"vdlk{os.getpid() % 100000}"  # <= 15 characters with suffixes: a valid object name


def _programs() -> list[Program]:
    lookup = """
        *(u32 *)(r10 -4) = 0
        r2 = r10
        r2 += -4
        r1 = map[{m}]
        call bpf_map_lookup_elem#1
        {check}
        r0 = *(u32 *)(r0 +0)
        exit
    """
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct(TAG, [("cnt", i32), ("l", b.bpf_spin_lock())])  # the tag marks our BTF objects
    blob = b.encode()

    def p(kind: str, text: str, maps=(), prog_type: int = 1, **kw) -> Program:
        return Program(id=f"leak/{kind}", source="leak", name=f"{TAG}_{kind[:4]}", prog_type=prog_type,
                       insns=encode(assemble(text, maps=[m.name for m in maps])), maps=tuple(maps), **kw)

    hash_map = MapSpec(f"{TAG}h", uapi.map_type_num("hash"), 4, 8, 16)
    return [
        p("accept", "r0 = 0\nexit"),
        p("reject", "exit"),
        p("map_accept", lookup.format(check="if r0 == 0x0 goto pc+1", m=hash_map.name), maps=[hash_map]),
        p("map_reject", lookup.format(check="", m=hash_map.name), maps=[hash_map]),
        p("map_fails", "r0 = 0\nexit", maps=[hash_map, MapSpec(f"{TAG}z", uapi.map_type_num("array"), 4, 8, 0)]),
        p("btf_map", lookup.format(check="if r0 == 0x0 goto pc+2", m=f"{TAG}b").replace("exit", "r0 &= 1\nexit"),
          prog_type=uapi.prog_type_num("cgroup_skb"),
          maps=[MapSpec(f"{TAG}b", uapi.map_type_num("array"), 4, 8, 1, btf=blob, btf_key_type_id=i32,
                        btf_value_type_id=val)]),
        p("inner", "r0 = 0\nexit", maps=[MapSpec(f"{TAG}o", uapi.map_type_num("array_of_maps"), 4, 4, 1,
                                                 inner=MapSpec(f"{TAG}i", uapi.map_type_num("array"), 4, 4, 1))]),
        p("tp_btf", "r0 = 0\nexit", prog_type=uapi.prog_type_num("tracing"),
          expected_attach_type=uapi.attach_type_num("trace_raw_tp"), attach_to="sched_switch"),
    ]


def _ours(after_prog: int, after_map: int, after_btf: int) -> tuple[list, list, list]:
    progs = [i for i in prog_ids() if i > after_prog and (prog_name_by_id(i) or "").startswith(TAG)]
    maps = [i for i in map_ids() if i > after_map and (map_name_by_id(i) or "").startswith(TAG)]
    btfs = [i for i in btf_ids() if i > after_btf and TAG.encode() in (btf_data_by_id(i) or b"")]
    return progs, maps, btfs


@pytest.mark.bpf
def test_ten_thousand_loads_leave_nothing_behind():
    programs = _programs()
    fds_before = sorted(os.listdir("/proc/self/fd"))
    last = (max(prog_ids(), default=0), max(map_ids(), default=0), max(btf_ids(), default=0))
    t0 = time.monotonic()
    verdicts: dict[str, set[str]] = {}
    for i in range(LOADS):
        p = programs[i % len(programs)]
        r = load(p, log_level=2 if i % 10 == 0 else 1)
        verdicts.setdefault(p.id, set()).add(r.verdict)
    elapsed = time.monotonic() - t0
    # each kind did what it is there for, every time
    assert verdicts["leak/accept"] == {"accept"} and verdicts["leak/reject"] == {"reject"}
    assert verdicts["leak/map_accept"] == {"accept"} and verdicts["leak/map_reject"] == {"reject"}
    assert verdicts["leak/map_fails"] == {"error"} and verdicts["leak/btf_map"] == {"accept"}
    assert verdicts["leak/inner"] == {"accept"} and len(verdicts["leak/tp_btf"]) == 1
    assert sorted(os.listdir("/proc/self/fd")) == fds_before
    # programs release their maps after an RCU grace period: allow the kernel a moment
    deadline = time.monotonic() + 10
    while True:
        left = _ours(*last)
        if left == ([], [], []) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == ([], [], []), f"left in the kernel (programs, maps, BTF ids): {left}"
    assert elapsed < 60, f"{LOADS} loads took {elapsed:.1f} s"
