"""Pointers and memory: packet pointers, variable offsets, stack spills/fills, atomics, linked scalars, LD_ABS.

Unit checks of verdicts and messages, and (bpf-marked) full level-1/2 log comparisons with the live
kernel on the programs in tests/data/memory/*.s.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from pyverifier.insn import decode
from pyverifier.verifier import verify
from selftests.asmfile import parse_asm_text
from test_verifier import _norm

DATA = Path(__file__).parent / "data" / "memory"
FILES = sorted(DATA.glob("*.s"))


def prog(text: str, prog_type: str = "socket_filter", maps: str = ""):
    return parse_asm_text(f"# name: t\n# prog_type: {prog_type}\n{maps}" + text)


PKT = "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\n"

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
