"""Pointers and memory: packet pointers, variable offsets, stack spills/fills, atomics (read-modify-write,
load-acquire, store-release), linked scalars, LD_ABS, direct map value references and read-only maps,
per-map access rights, prog_flags (strict alignment, sleepable), null checks by comparing two pointers.

Unit checks of verdicts and messages, and (bpf-marked) full level-1/2 log comparisons with the live
kernel on the programs in tests/data/memory/*.s.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from pyverifier.insn import decode
from pyverifier.verifier import verify
from selftests.asmfile import parse_asm_text
from test_verifier import _norm as _norm_base


def _norm(log: str, insns) -> str:
    # the kernel prints a direct map value reference as an address: the padding differs like for map[IDX]
    return re.sub(r"(\(18\) r\d+ = map_value\[\d+\]\+\d+) +;", r"\1 ;", _norm_base(log, insns))


DATA = Path(__file__).parent / "data" / "memory"
FILES = sorted(DATA.glob("*.s"))


def prog(text: str, prog_type: str = "socket_filter", maps: str = ""):
    return parse_asm_text(f"# name: t\n# prog_type: {prog_type}\n{maps}" + text)


PKT = "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\n"
MV = ("# map: a type=array key=4 value=16 entries=1\n# map: b type=array key=4 value=16 entries=2\n"
      "# map: h type=hash key=4 value=16 entries=1\n"
      "# map: ro type=array key=4 value=16 entries=1 flags=0x80 frozen init=0102030405060708f1f2f3f4f5f6f7f8\n"
      "# map: ro2 type=array key=4 value=16 entries=2 flags=0x80 frozen\n"
      "# map: wo type=array key=4 value=16 entries=1 flags=0x100\n")
SAME_INSN = ("r6 = r1\n*(u64 *)(r10 -8) = 0\ncall bpf_get_prandom_u32#7\nif r0 == 0 goto a\nr1 = r10\nr1 += -8\n"
             "goto b\na:\nr1 = r6\nb:\n")
LK = "r2 = r10\nr2 += -4\n*(u32 *)(r10 -4) = 0\nr1 = map[h]\ncall bpf_map_lookup_elem#1\nr6 = r0\nr7 = r0\n"

# (program text, prog_type, verdict, message)
CASES = [
    (PKT + "r4 = r2\nr4 += 8\nif r4 > r3 goto l\nr0 = *(u64 *)(r2 +0)\nl:\nr0 = 0\nexit\n", "xdp", "accept", ""),
    (PKT + "r0 = *(u8 *)(r2 +0)\nr0 = 0\nexit\n", "xdp", "reject", "R2 offset is outside of the packet"),
    # pkt' < pkt_end proves one byte more than pkt' <= pkt_end
    (PKT + "r4 = r2\nr4 += 8\nif r4 < r3 goto l\nr0 = 0\nexit\nl:\nr0 = *(u8 *)(r2 +8)\nr0 = 0\nexit\n", "xdp",
     "accept", ""),
    (PKT + "r4 = r2\nr4 += 8\nif r3 >= r4 goto l\nr0 = 0\nexit\nl:\nr0 = *(u8 *)(r2 +8)\nr0 = 0\nexit\n", "xdp",
     "reject", "R2 offset is outside of the packet"),
    # the range is not established by a 32-bit comparison
    (PKT + "r4 = r2\nr4 += 8\nif w4 > w3 goto l\nr0 = *(u8 *)(r2 +0)\nl:\nr0 = 0\nexit\n", "xdp",
     "reject", "R2 offset is outside of the packet"),
    (PKT + "r4 = r2\nr4 += 8\nif r4 > r3 goto l\n*(u8 *)(r2 +0) = r4\nl:\nr0 = 0\nexit\n", "xdp", "accept", ""),
    ("r2 = *(u32 *)(r1 +76)\nr3 = *(u32 *)(r1 +80)\nr4 = r2\nr4 += 8\nif r4 > r3 goto l\n"
     "r0 = *(u8 *)(r2 +0)\nl:\nr0 = 0\nexit\n", "sched_cls", "accept", ""),
    ("r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = 1\nlock *(u64 *)(r10 -8) += r2\nr0 = *(u64 *)(r10 -8)\nexit\n",
     "socket_filter", "accept", ""),
    ("r2 = 1\nlock *(u32 *)(r1 +0) += r2\nr0 = 0\nexit\n", "socket_filter", "reject",
     "BPF_ATOMIC stores into R1 ctx is not allowed"),
    ("*(u64 *)(r10 -8) = r1\n*(u32 *)(r10 -8) = r1\nr0 = 0\nexit\n", "socket_filter", "reject",
     "invalid size of register spill"),
    ("*(u64 *)(r10 -8) = r1\nr0 = *(u32 *)(r10 -8)\nexit\n", "socket_filter", "reject",
     "invalid size of register fill"),
    ("r6 = r1\nr0 = *(u8 *)skb[12]\nexit\n", "socket_filter", "accept", ""),
    ("r6 = r1\nr0 = *(u8 *)skb[12]\nexit\n", "xdp", "reject",
     "BPF_LD_[ABS|IND] instructions not allowed for this program type"),
    ("r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = r1\nexit\n", "socket_filter", "reject", "R1 !read_ok"),
    ("r1 = r10\nr1 -= 8\nr0 = 0\nexit\n", "socket_filter", "reject", "R1 subtraction from stack pointer prohibited"),
    ("r1 = r10\nr1 += -520\nr0 = *(u64 *)(r1 +0)\nexit\n", "socket_filter", "reject",
     "invalid read from stack R1 off=-520 size=8"),
    # direct map value references (global data), checked before exploration
    (MV + "r1 = map_value[a]+16\nr0 = 0\nexit\n", "socket_filter", "reject",
     "invalid access to map value pointer, value_size=16 off=16"),
    (MV + "r1 = map_value[b]+0\nr0 = 0\nexit\n", "socket_filter", "reject",
     "invalid access to map value pointer, value_size=16 off=0"),
    (MV + "r1 = map_value[h]+0\nr0 = 0\nexit\n", "socket_filter", "reject",
     "no direct value access support for this map type"),
    (MV + "r1 = map_value[a]+536870912\nr0 = 0\nexit\n", "socket_filter", "reject",
     "direct value offset of 536870912 is not allowed"),
    (MV + "r1 = map_value[a]+15\nr0 = *(u8 *)(r1 +0)\nr0 = *(u16 *)(r1 +0)\nexit\n", "socket_filter", "reject",
     "R1 min value is outside of the allowed memory range"),
    # per-map rights: BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG
    (MV + "r1 = map_value[ro]+0\nr0 = 0\n*(u32 *)(r1 +4) = 0\nexit\n", "socket_filter", "reject",
     "write into map forbidden, value_size=16 off=4 size=4"),
    (MV + "r1 = map_value[ro]+4\nr0 = 0\nlock *(u32 *)(r1 +0) += r0\nexit\n", "socket_filter", "reject",
     "write into map forbidden, value_size=16 off=4 size=4"),
    (MV + "r1 = map_value[wo]+0\nr0 = *(u8 *)(r1 +0)\nexit\n", "socket_filter", "reject",
     "read from map forbidden, value_size=16 off=0 size=1"),
    (MV + "r1 = map_value[wo]+0\nr0 = 0\n*(u8 *)(r1 +0) = r0\nexit\n", "socket_filter", "accept", ""),
    # a constant load from a frozen read-only array of more than one element: the kernel fails silently
    (MV + "r2 = r10\nr2 += -4\n*(u32 *)(r10 -4) = 0\nr1 = map[ro2]\ncall bpf_map_lookup_elem#1\n"
     "if r0 == 0 goto l\nr1 = *(u8 *)(r0 +0)\nl:\nr0 = 0\nexit\n", "socket_filter", "reject",
     "rejected with ENOTSUPP before the verifier ran (no log)"),
    # strict alignment (prog_flags 1); any_alignment (2) lifts it
    ("# prog_flags: 1\n" + PKT + "r4 = r2\nr4 += 16\nif r4 > r3 goto l\nr0 = *(u32 *)(r2 +0)\nl:\nr0 = 0\nexit\n",
     "xdp", "reject", "misaligned packet access off 2+0+0+0 size 4"),
    ("# prog_flags: 3\n" + PKT + "r4 = r2\nr4 += 16\nif r4 > r3 goto l\nr0 = *(u32 *)(r2 +0)\nl:\nr0 = 0\nexit\n",
     "xdp", "accept", ""),
    ("# prog_flags: 1\nr0 = *(u16 *)(r1 +1)\nr0 = 0\nexit\n", "xdp", "reject",
     "misaligned context access off 0+0+1 size 2"),
    ("# prog_flags: 1\nr1 = 3\nr0 = *(u16 *)(r1 +0)\nr0 = 0\nexit\n", "xdp", "reject", "misaligned access off 3+0+0 size 2"),
    ("# prog_flags: 1\n" + MV + "call bpf_get_prandom_u32#7\nr0 &= 6\nr1 = map_value[a]+0\nr1 += r0\n"
     "r0 = *(u16 *)(r1 +0)\nr0 = *(u32 *)(r1 +0)\nr0 = 0\nexit\n", "socket_filter", "reject",
     "misaligned value access off (0x0; 0x6)+0+0 size 4"),
    ("# prog_flags: 16\nr0 = 0\nexit\n", "socket_filter", "reject",
     "Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable"),
    ("# prog_flags: 1024\nr0 = 0\nexit\n", "socket_filter", "reject",
     "rejected with EINVAL before the verifier ran (no log)"),
    ("# prog_flags: 228\nr0 = 0\nexit\n", "socket_filter", "accept", ""),
    # load-acquire / store-release: always strictly aligned, pointer kind checked after the access
    (MV + "r1 = map_value[a]+0\nr0 = load_acquire((u32 *)(r1 +2))\nr0 = 0\nexit\n", "socket_filter", "reject",
     "misaligned value access off 0+0+2 size 4"),
    ("r0 = load_acquire((u32 *)(r1 +0))\nr0 = 0\nexit\n", "socket_filter", "reject",
     "BPF_ATOMIC loads from R1 ctx is not allowed"),
    ("r1 = load_acquire((u32 *)(r1 +0))\nr0 = 0\nexit\n", "socket_filter", "accept", ""),
    ("r2 = 7\nstore_release((u32 *)(r10 -6), r2)\nr0 = 0\nexit\n", "socket_filter", "reject",
     "misaligned stack access off 0+0+-6 size 4"),
    ("r2 = 7\nstore_release((u32 *)(r1 +0), r2)\nr0 = 0\nexit\n", "socket_filter", "reject",
     "invalid bpf_context access off=0 size=4"),
    # a maybe-null pointer compared with a not-null one: only the compared register becomes not-null
    (MV + LK + "r8 = r10\nif r0 != r8 goto l\nr0 = *(u64 *)(r6 +0)\nr0 = *(u64 *)(r7 +0)\nl:\nr0 = 0\nexit\n",
     "socket_filter", "reject", "R6 invalid mem access 'map_value_or_null'"),
    (MV + LK + "r8 = r10\nif r8 == r6 goto l\nr0 = 0\nexit\nl:\nif r7 == 0 goto m\nr0 = *(u64 *)(r6 +0)\nm:\n"
     "r0 = 0\nexit\n", "socket_filter", "accept", ""),
    # one load/store instruction must not see a context pointer on one path and another pointer on another
    (SAME_INSN + "r0 = *(u32 *)(r1 +0)\nr0 = 0\nexit\n", "socket_filter", "reject",
     "same insn cannot be used with different pointers"),
    (SAME_INSN + "*(u32 *)(r1 +48) = 0\nr0 = 0\nexit\n", "socket_filter", "reject",
     "invalid write to stack R1 off=40 size=4"),
    # a pointer to the caller's stack cannot be spilled into the caller's frame; a scalar can
    ("r1 = r10\nr1 += -8\ncall pc+2\nr0 = 0\nexit\n*(u64 *)(r1 +0) = r1\nr0 = 0\nexit\n", "socket_filter",
     "reject", "cannot spill pointers to stack into stack frame of the caller"),
    ("r0 = 0\n*(u8 *)(r10 -1) = r15\nexit\n", "socket_filter", "reject", "R15 is invalid"),
    # part of a pointer: an unknown scalar (zero-extended for 32-bit moves)
    ("w0 = w10\nr1 = (s8)r10\nw2 = (s16)w1\nr0 = 0\nexit\n", "socket_filter", "accept", ""),
    # the map structure behind a map pointer: no negative offsets, no writes
    (MV + "r1 = map[a]\nr0 = *(u64 *)(r1 -8)\nexit\n", "socket_filter", "reject",
     "R1 is bpf_array invalid negative access: off=-8"),
    (MV + "r1 = map[h]\n*(u64 *)(r1 +0) = r1\nr0 = 0\nexit\n", "socket_filter", "reject",
     "only read from bpf_htab is supported"),
    ("call bpf_get_prandom_u32#7\nr0 &= 8\nr1 = r10\nr1 += r0\nr0 = *(u64 *)(r1 +0)\nexit\n", "socket_filter",
     "reject", "invalid variable-offset read from stack R1 var_off=(0x0; 0x8) off=0 size=8"),
    # le64 on a little-endian machine changes nothing: the register keeps its value and its id
    ("call bpf_get_prandom_u32#7\nr0 &= 0xff\nr1 = r0\nr0 = le64 r0\nif r1 > 5 goto l\nr2 = r0\nl:\nr0 = 0\n"
     "exit\n", "socket_filter", "accept", ""),
    # comparing with a register known to be 0 is not a null check
    (MV + LK + "r8 = 0\nif r6 != r8 goto l\nr0 = 0\nexit\nl:\nr0 = *(u64 *)(r7 +0)\nr0 = 0\nexit\n",
     "socket_filter", "reject", "R7 invalid mem access 'map_value_or_null'"),
]


@pytest.mark.parametrize("text,ptype,verdict,message", CASES, ids=[str(i) for i in range(len(CASES))])
def test_verdict_and_message(text, ptype, verdict, message):
    r = verify(prog(text, ptype), 2)
    assert (r.verdict, r.message) == (verdict, message), r.log


def test_linked_add_const_prints_offset():
    r = verify(prog("call bpf_get_prandom_u32#7\nr0 &= 0xff\nr1 = r0\nr1 += 4\nif r0 > 10 goto l\n"
                    "r0 = r1\nl:\nr0 = 0\nexit\n"), 2)
    assert r.verdict == "accept", r.log
    assert "R1=scalar(id=1+4," in r.log
    # the comparison of r0 bounds r1 too: 4..14 on the fall-through (where a copy gives it a fresh id),
    # 15..259 with the +4 link kept on the taken branch
    assert "R1=scalar(id=2,smin=umin=smin32=umin32=4,smax=umax=smax32=umax32=14" in r.log
    assert "R1=scalar(id=1+4,smin=umin=smin32=umin32=15,smax=umax=smax32=umax32=259" in r.log


def test_rodata_loads_are_constants():
    r = verify(prog(MV + "r1 = map_value[ro]+4\nr2 = *(u32 *)(r1 +0)\nr3 = *(s8 *)(r1 +8)\nr4 = *(u8 *)(r1 +8)\n"
                    "r5 = *(u64 *)(r1 -4)\nr0 = 0\nexit\n"), 2)
    assert r.verdict == "accept", r.log
    assert "R1=map_value(map=ro,ks=4,vs=16,off=4)" in r.log
    assert "R2=0x8070605" in r.log
    assert "R3=-11" in r.log and "R4=245" in r.log and "R5=0x807060504030201" in r.log


def test_not_frozen_or_writable_map_reads_unknown():
    spec = "# map: ronf type=array key=4 value=8 entries=1 flags=0x80 init=0102030405060708\n"
    r = verify(prog(spec + "r1 = map_value[ronf]+0\nr2 = *(u8 *)(r1 +0)\nr0 = 0\nexit\n"), 2)
    assert r.verdict == "accept", r.log
    assert "R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))" in r.log


def test_packet_range_markings():
    r = verify(prog(PKT + "r4 = r2\nr4 += 8\nif r4 > r3 goto l\nr0 = 0\nexit\nl:\nr0 = 0\nexit\n", "xdp"), 2)
    assert "R4=pkt(off=8,r=8)" in r.log
    assert "R4=pkt(off=8,r=0xfffffffffffffffe)" in r.log  # beyond pkt_end on the taken branch


@pytest.mark.bpf
@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_against_kernel(path, level):
    from kernel_loader import load

    p = parse_asm_text(path.read_text(), path)
    k = load(p, log_level=level)
    assert k.verdict in ("accept", "reject"), k.message
    r = verify(p, level | 4)
    assert (r.verdict, r.errno, r.message) == (k.verdict, k.errno, k.message), r.log
    kl, pl = _norm(k.log, decode(p.insns)), _norm(r.log, decode(p.insns))
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier"))


@pytest.mark.bpf
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_cases_against_kernel(case):
    from kernel_loader import load

    text, ptype, _, _ = case
    p = prog(text, ptype)
    k = load(p, log_level=2)
    r = verify(p, 2 | 4)
    assert (r.verdict, r.message) == (k.verdict, k.message), k.log
    kl, pl = _norm(k.log, decode(p.insns)), _norm(r.log, decode(p.insns))
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier"))
