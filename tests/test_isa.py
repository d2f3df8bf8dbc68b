"""The instruction set: opcodes, helper names, the kernel's disassembly and the assembler.

The live-kernel tests load programs at log level 2 and compare every ``N: (op) ...``
line the kernel prints (the ``Live regs`` listing of the whole program and the
instruction trace) with ``format_line``. ``tests/data/kernel_lines.txt`` holds
lines captured from the 6.18 kernel the same way; run this file as a script
(``python tests/test_isa.py``, root) to capture it again.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyverifier import opcodes as op
from pyverifier.asm import AsmError, assemble, disassemble
from pyverifier.disasm import format_insn, format_line, format_lines, normalize_log
from pyverifier.helper_ids import BPF_FUNC_MAX_ID, HELPER_NAMES, helper_id, helper_name
from pyverifier.insn import Insn, decode, encode

DATA = Path(__file__).parent / "data"
KERNEL_LINES = DATA / "kernel_lines.txt"

SIZES = (op.BPF_W, op.BPF_H, op.BPF_B, op.BPF_DW)
IMMS = (0, 1, -1, 7, 0x7FFFFFFF, -0x80000000)
OFFS = (0, 1, -8, 32767, -32768)
ALU_BINARY = (
    op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_DIV, op.BPF_OR, op.BPF_AND,
    op.BPF_LSH, op.BPF_RSH, op.BPF_MOD, op.BPF_XOR, op.BPF_MOV, op.BPF_ARSH,
)
ATOMIC_IMMS = sorted(op.ATOMIC_IMMS)


def I(code, dst=0, src=0, off=0, imm=0):  # noqa: E743 - short constructor for tables
    return Insn(code, dst, src, off, imm)


def ld64(dst, value, src=0):
    value &= (1 << 64) - 1
    lo, hi = value & 0xFFFFFFFF, value >> 32
    s32 = lambda v: v - (1 << 32) if v >= 1 << 31 else v  # noqa: E731
    return [I(op.LD_IMM64, dst, src, 0, s32(lo)), I(0, 0, 0, 0, s32(hi))]


# --- canonical examples of every valid opcode -------------------------------
def alu_examples():
    for cls in (op.BPF_ALU, op.BPF_ALU64):
        for o in ALU_BINARY:
            for imm in IMMS:
                yield [I(cls | o | op.BPF_K, 3, 0, 0, imm)]
            yield [I(cls | o | op.BPF_X, 1, 2)]
            yield [I(cls | o | op.BPF_X, 10, 0)]
            if o in (op.BPF_DIV, op.BPF_MOD):
                yield [I(cls | o | op.BPF_K, 4, 0, 1, -3)]
                yield [I(cls | o | op.BPF_X, 4, 5, 1)]
        for sx in (8, 16, 32) if cls == op.BPF_ALU64 else (8, 16):
            yield [I(cls | op.BPF_MOV | op.BPF_X, 6, 7, sx)]
        yield [I(cls | op.BPF_NEG, 9)]
    yield [I(op.MOV64_REG, 1, 2, op.BPF_ADDR_SPACE_CAST, (1 << 16) | 0)]
    yield [I(op.MOV64_REG, 3, 3, op.BPF_ADDR_SPACE_CAST, 1)]
    for width in (16, 32, 64):
        yield [I(op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, 2, 0, 0, width)]
        yield [I(op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, 2, 0, 0, width)]
        yield [I(op.BSWAP, 5, 0, 0, width)]


def mem_examples():
    for size in SIZES:
        for off in OFFS:
            yield [I(op.BPF_LDX | op.BPF_MEM | size, 0, 1, off)]
            yield [I(op.BPF_STX | op.BPF_MEM | size, 10, 2, off)]
            yield [I(op.BPF_ST | op.BPF_MEM | size, 10, 0, off, -7)]
        yield [I(op.BPF_ST | op.BPF_MEM | size, 1, 0, 0, 0x7FFFFFFF)]
        if size != op.BPF_DW:
            yield [I(op.BPF_LDX | op.BPF_MEMSX | size, 3, 10, -8)]
            yield [I(op.BPF_LD | op.BPF_ABS | size, 0, 0, 0, 14)]
            yield [I(op.BPF_LD | op.BPF_ABS | size, 0, 0, 0, -1)]
            yield [I(op.BPF_LD | op.BPF_IND | size, 0, 6, 0, 2)]
        for imm in ATOMIC_IMMS:
            yield [I(op.BPF_STX | op.BPF_ATOMIC | size, 10, 1, -8, imm)]


def ld_imm64_examples():
    for value in (0, 1, 0xFFFFFFFF, 0x100000000, 0x123456789ABCDEF0, (1 << 64) - 1):
        yield ld64(1, value)
    yield ld64(2, 0, op.BPF_PSEUDO_MAP_FD)
    yield [I(op.LD_IMM64, 3, op.BPF_PSEUDO_MAP_VALUE, 0, 1), I(0, 0, 0, 0, 12)]
    yield [I(op.LD_IMM64, 4, op.BPF_PSEUDO_BTF_ID, 0, 1234), I(0)]
    yield [I(op.LD_IMM64, 5, op.BPF_PSEUDO_MAP_IDX, 0, 1), I(0)]
    yield [I(op.LD_IMM64, 6, op.BPF_PSEUDO_MAP_IDX_VALUE, 0, 0), I(0, 0, 0, 0, 4)]


def jmp_examples():
    for cls in (op.BPF_JMP, op.BPF_JMP32):
        for o in op.COND_JMP_OPS:
            for imm in (0, -1, 255):
                yield [I(cls | o | op.BPF_K, 1, 0, 0, imm)]
            yield [I(cls | o | op.BPF_X, 1, 2, 0)]
    yield [I(op.JA, 0, 0, 0)]
    yield [I(op.GOTOL, 0, 0, 0, 0)]
    yield [I(op.MAY_GOTO, 0, op.BPF_MAY_GOTO, 0)]
    for hid in (1, 5, 12, 211):
        yield [I(op.CALL, 0, 0, 0, hid)]


def examples():
    """Canonical instructions (every field shown by the kernel's text) of every valid opcode."""
    yield from alu_examples()
    yield from mem_examples()
    yield from ld_imm64_examples()
    yield from jmp_examples()
    yield [I(op.CALL, 0, op.BPF_PSEUDO_CALL, 0, 5)]
    yield [I(op.CALL, 0, op.BPF_PSEUDO_KFUNC_CALL, 0, 65499)]
    yield [I(op.CALL, 0, 0, 0, 300)]  # unknown helper id
    yield [I(op.EXIT)]


EXAMPLES = [list(e) for e in examples()]


def reprint(slots):
    return format_line(slots, 0)


# --- opcodes ----------------------------------------------------------------
def test_valid_opcodes_cover_each_family():
    assert len(op.VALID_OPCODES) == 128
    for code in (0x18, 0x61, 0x81, 0x62, 0x7B, 0xDB, 0xCB, 0xD3, 0x07, 0xBF, 0x87, 0xD4, 0xDC, 0xD7,
                 0x05, 0x06, 0x85, 0x95, 0xE5, 0x1D, 0x1E, 0x20, 0x50):
        assert op.is_valid_opcode(code), hex(code)
    for code in (0x00, 0x99, 0x8C, 0x8F, 0xDF, 0x0D, 0x86, 0x96, 0xE6, 0xC2, 0x38, 0x01, 0xFF, -1, 256):
        assert not op.is_valid_opcode(code), hex(code)


def test_every_valid_opcode_has_an_example():
    assert {e[0].code for e in EXAMPLES} == op.VALID_OPCODES


def test_helper_table():
    assert HELPER_NAMES[1] == "bpf_map_lookup_elem"
    assert HELPER_NAMES[211] == "bpf_cgrp_storage_delete"
    assert sorted(HELPER_NAMES) == list(range(BPF_FUNC_MAX_ID))
    assert helper_name(BPF_FUNC_MAX_ID) == "unknown" and helper_name(-1) == "unknown"
    assert helper_id("bpf_tail_call") == 12 == helper_id("tail_call")
    assert helper_id("no_such_helper") is None
    assert len(set(HELPER_NAMES.values())) == BPF_FUNC_MAX_ID


# --- disassembly: exact texts --------------------------------------------------
@pytest.mark.parametrize(
    "slots,text",
    [
        ([I(0xB7, 0, 0, 0, 0)], "(b7) r0 = 0"),
        ([I(0x63, 10, 1, -4)], "(63) *(u32 *)(r10 -4) = r1"),
        ([I(0x15, 0, 0, 1, 0)], "(15) if r0 == 0x0 goto pc+1"),
        ([I(0x85, 0, 0, 0, 1)], "(85) call bpf_map_lookup_elem#1"),
        ([I(0x0C, 0, 1)], "(0c) w0 += w1"),
        ([I(0x79, 1, 1, 0)], "(79) r1 = *(u64 *)(r1 +0)"),
        ([I(0xDB, 10, 1, -8, 0)], "(db) lock *(u64 *)(r10 -8) += r1"),
        ([I(0xC3, 10, 2, -4, 0xA1)], "(c3) r2 = atomic_fetch_xor((u32 *)(r10 -4), r2)"),
        ([I(0xDB, 10, 3, -8, 0xF1)], "(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r3)"),
        ([I(0xD3, 1, 2, 3, 0x100)], "(d3) r1 = load_acquire((u8 *)(r2 +3))"),
        ([I(0xCB, 1, 2, -3, 0x110)], "(cb) store_release((u16 *)(r1 -3), r2)"),
        (ld64(0, 0x1234_0000_0001), "(18) r0 = 0x123400000001"),
        (ld64(1, 0, op.BPF_PSEUDO_MAP_FD), "(18) r1 = map[0]"),
        ([I(0x18, 2, 2, 0, 3), I(0, 0, 0, 0, -1)], "(18) r2 = map_value[3]+4294967295"),
        ([I(0x85, 0, 1, 0, -4)], "(85) call pc-4"),
        ([I(0x85, 0, 2, 0, 77)], "(85) call kernel-function#77"),
        ([I(0x85, 0, 3, 0, 5)], "(85) call unknown#5"),
        ([I(0x06, 0, 0, 0, -70000)], "(06) gotol pc-70000"),
        ([I(0xE5, 0, 0, 3)], "(e5) may_goto pc+3"),
        ([I(0xE5, 0, 1, 3)], "(e5) if r0 (null) 0x0 goto pc+3"),
        ([I(0xBF, 0, 1, 8)], "(bf) r0 = (s8)r1"),
        ([I(0xBC, 0, 1, 16)], "(bc) w0 = (s16)w1"),
        ([I(0xD7, 0, 0, 0, 16)], "(d7) r0 = bswap16 r0"),
        ([I(0xDC, 0, 0, 0, 16)], "(dc) r0 = be16 r0"),
        ([I(0xD4, 3, 0, 0, 64)], "(d4) r3 = le64 r3"),
        ([I(0x87, 0)], "(87) r0 = -r0"),
        ([I(0x84, 0)], "(84) w0 = -w0"),
        ([I(0x3F, 1, 2, 1)], "(3f) r1 s/= r2"),
        ([I(0x94, 1, 0, 1, -3)], "(94) w1 s%= -3"),
        ([I(0xBF, 1, 2, 1, 0x10002)], "(bf) r1 = addr_space_cast(r2, 1, 2)"),
        ([I(0x91, 1, 2, -1)], "(91) r1 = *(s8 *)(r2 -1)"),
        ([I(0x30, 0, 0, 0, -1)], "(30) r0 = *(u8 *)skb[-1]"),
        ([I(0x48, 0, 3, 0, 5)], "(48) r0 = *(u16 *)skb[r3 + 5]"),
        ([I(0xA6, 1, 0, 0, -2)], "(a6) if w1 < 0xfffffffe goto pc+0"),
        ([I(0xDB, 10, 1, -8, 0x10)], "BUG_db"),
        ([I(0x42, 1)], "BUG_st_42"),
        ([I(0x01, 1)], "BUG_ldx_01"),
        ([I(0x00, 1)], "BUG_ld_00"),
        ([I(0xC2)], "(c2) nospec"),
        ([I(0xE7, 1, 0, 0, 2)], "(e7) r1 (null) 2"),
    ],
)
def test_format_line(slots, text):
    assert format_line(slots, 0) == text
    assert format_insn(slots, 0) == (text[5:] if text.startswith("(") else text)


def test_kfunc_names():
    call = [I(0x85, 0, 2, 0, 65499)]
    assert format_insn(call, 0, {65499: "bpf_rcu_read_lock"}) == "call bpf_rcu_read_lock#65499"
    assert format_insn(call, 0, {}) == "call kernel-function#65499"


@given(st.binary(min_size=16, max_size=16), st.integers(0, 1))
def test_format_never_raises(data, idx):
    insns = decode(data)
    assert isinstance(format_line(insns, idx), str)
    assert isinstance(format_insn(insns, idx), str)


@settings(max_examples=300)
@given(st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=12), st.booleans())
def test_format_lines_is_format_line_of_each(slots, warm):
    """format_lines (kept texts looked up in one go, the others made) gives format_line's text of
    every instruction, kfunc calls with their names, None only for the second half of an ld_imm64."""
    insns = decode(b"".join(slots))
    at = len(insns) // 2
    insns.insert(at, I(0x85, 0, 2, 0, 65499))  # a kfunc call, never kept by value
    if warm:  # most texts already kept
        for i in range(len(insns)):
            format_line(insns, i)
    names = {65499: "bpf_rcu_read_lock"}
    got = format_lines(insns, lambda imm: names)
    i = 0
    while i < len(insns):
        want = format_line(insns, i, names if insns[i].code == 0x85 and insns[i].src == 2 else None)
        assert got[i] == want, i
        if insns[i].code == op.LD_IMM64 and i + 1 < len(insns):
            i += 2
        else:
            i += 1
    if at == 0 or insns[at - 1].code != op.LD_IMM64:  # not taken for the second half of one
        assert got[at] == "(85) call bpf_rcu_read_lock#65499"


def test_normalize_log():
    insns = [*ld64(1, 0, op.BPF_PSEUDO_MAP_FD), I(0x18, 2, 2, 0, 0), I(0, 0, 0, 0, 8), *ld64(3, 5), I(0x95)]
    log = (
        "      0: .......... (18) r1 = 0xffff888100996200\n"
        "      4: .......... (18) r3 = 0x5\n"
        "0: (18) r1 = 0xffff888100996200       ; R1=map_ptr(ks=4,vs=8)\n"
        "2: (18) r2 = 0x0       ; R2=map_value(ks=4,vs=8,off=8)\n"
        "4: (18) r3 = 0x5\n"
    )
    assert normalize_log(log, insns) == (
        "      0: .......... (18) r1 = map[0]\n"
        "      4: .......... (18) r3 = 0x5\n"
        "0: (18) r1 = map[0]       ; R1=map_ptr(ks=4,vs=8)\n"
        "2: (18) r2 = map_value[0]+8       ; R2=map_value(ks=4,vs=8,off=8)\n"
        "4: (18) r3 = 0x5\n"
    )


# --- round trips ----------------------------------------------------------------
@pytest.mark.parametrize("slots", EXAMPLES, ids=lambda s: format_line(s, 0))
def test_example_round_trip(slots):
    text = format_line(slots, 0)
    assert assemble(text) == slots
    assert assemble(f"17: {text}    ; R0=scalar()") == slots
    assert assemble(disassemble(slots)) == slots


def _canonical(code, dst, src, off, imm, imm2, pick):
    """Force the fields the kernel's text does not show to the values the assembler gives them."""
    cls, o = code & 7, code & 0xF0
    if code == op.LD_IMM64:
        src = (0, 1, 2, 3, 5, 6)[pick % 6]
        return [I(code, dst, src, 0, imm), I(0, 0, 0, 0, imm2 if src in (0, 2, 6) else 0)]
    if cls in (op.BPF_ALU, op.BPF_ALU64):
        if o in (op.BPF_NEG,):
            return [I(code, dst)]
        if o == op.BPF_END:
            return [I(code, dst, 0, 0, imm)]
        if o in (op.BPF_DIV, op.BPF_MOD):
            off = pick % 2
        elif o == op.BPF_MOV and code & op.BPF_X:
            choices = (0, 8, 16, 32, 1) if cls == op.BPF_ALU64 else (0, 8, 16, 32)
            off = choices[pick % len(choices)]
        else:
            off = 0
        if code & op.BPF_X:
            return [I(code, dst, src, off, imm & 0x7FFFFFFF if off == 1 and o == op.BPF_MOV else 0)]
        return [I(code, dst, 0, off, imm)]
    if cls == op.BPF_LD:
        return [I(code, 0, src if code & 0xE0 == op.BPF_IND else 0, 0, imm)]
    if cls == op.BPF_LDX or code & 0xE0 == op.BPF_MEM and cls == op.BPF_STX:
        return [I(code, dst, src, off, 0)]
    if cls == op.BPF_ST:
        return [I(code, dst, 0, off, imm)]
    if cls == op.BPF_STX:
        return [I(code, dst, src, off, ATOMIC_IMMS[pick % len(ATOMIC_IMMS)])]
    if code == op.CALL:
        return [I(code, 0, pick % 3, 0, imm)]
    if code == op.EXIT:
        return [I(code)]
    if code == op.JA or code == op.MAY_GOTO:
        return [I(code, 0, 0, off)]
    if code == op.GOTOL:
        return [I(code, 0, 0, 0, imm)]
    if code & op.BPF_X:
        return [I(code, dst, src, off)]
    return [I(code, dst, 0, off, imm)]


s32s = st.integers(-(1 << 31), (1 << 31) - 1)
valid_slots = st.builds(
    _canonical,
    st.sampled_from(sorted(op.VALID_OPCODES)),
    st.integers(0, 15), st.integers(0, 15), st.integers(-(1 << 15), (1 << 15) - 1),
    s32s, s32s, st.integers(0, 1000),
)


@settings(max_examples=2000)
@given(valid_slots)
def test_random_valid_round_trip(slots):
    assert assemble(format_line(slots, 0)) == slots
    assert assemble(disassemble(slots)) == slots


@settings(max_examples=500)
@given(st.lists(valid_slots, min_size=1, max_size=30))
def test_random_program_round_trip(parts):
    insns = [i for p in parts for i in p]
    lines, n = [], 0
    for p in parts:
        lines.append(f"{n}: {format_line(insns, n)}")
        n += len(p)
    assert assemble("\n".join(lines)) == insns


@settings(max_examples=1000)
@given(st.binary(min_size=8, max_size=64).filter(lambda b: len(b) % 8 == 0))
def test_disassemble_any_bytes(data):
    insns = decode(data)
    assert encode(assemble(disassemble(insns))) == data


def test_disassemble_names_maps_and_callbacks():
    maps = [".rodata", "counts"]
    insns = [*ld64(1, 1, op.BPF_PSEUDO_MAP_FD), I(0x18, 2, 2, 0, 0), I(0, 0, 0, 0, 4),
             I(0x18, 3, op.BPF_PSEUDO_FUNC, 0, 2), I(0), I(0x95), I(0xB7), I(0x95)]
    text = disassemble(insns, maps=maps)
    assert text.splitlines()[:3] == ["r1 = map[counts]", "r2 = map_value[.rodata]+4", "r3 = func[pc+2]"]
    assert assemble(text, maps=maps) == insns
    # an index past the names keeps the numeric form
    assert disassemble(ld64(1, 7, op.BPF_PSEUDO_MAP_FD), maps=maps) == "r1 = map[7]\n"
    # reserved fields the text cannot show fall back to .insn
    odd = [I(0xB7, 1, 3, 2, 5)]
    assert disassemble(odd) == ".insn code=0xb7 dst=1 src=3 off=2 imm=5\n"
    assert disassemble([I(0x85, 0, 2, 1, 9)], kfuncs={9: "bpf_x"}) == ".insn code=0x85 dst=0 src=2 off=1 imm=9\n"
    assert disassemble([I(0x85, 0, 2, 0, 9)], kfuncs={9: "bpf_x"}) == "call bpf_x#9\n"


# --- assembler syntax -------------------------------------------------------------
def test_labels_and_names():
    text = """
    # a comment
    start:
        r1 = 5            // trailing comment
        if r1 > 3 goto out
        w2 = w1
        call bpf_get_prandom_u32
        call get_prandom_u32#7
        call helper_fn
        r4 = func[helper_fn]
        gotol start
        may_goto out
    out:
        r0 = 0
        exit
    helper_fn:
        r0 = 1 ll
        exit
    """
    insns = assemble(text)
    assert insns == [
        I(0xB7, 1, 0, 0, 5),
        I(0x25, 1, 0, 8, 3),
        I(0xBC, 2, 1),
        I(0x85, 0, 0, 0, 7),
        I(0x85, 0, 0, 0, 7),
        I(0x85, 0, 1, 0, 6),
        I(0x18, 4, 4, 0, 5), I(0),
        I(0x06, 0, 0, 0, -9),
        I(0xE5, 0, 0, 0, 0),
        I(0xB7, 0), I(0x95),
        *ld64(0, 1), I(0x95),
    ]


def test_map_references():
    maps = ["a", "b"]
    assert assemble("r1 = map[b]", maps) == ld64(1, 1, op.BPF_PSEUDO_MAP_FD)
    assert assemble("r1 = map[0]") == ld64(1, 0, op.BPF_PSEUDO_MAP_FD)
    assert assemble("r2 = map_value[a]+16", maps) == [I(0x18, 2, 2, 0, 0), I(0, 0, 0, 0, 16)]
    assert assemble("r2 = map_value[b]", maps) == [I(0x18, 2, 2, 0, 1), I(0)]
    assert assemble("r3 = map_idx_value[2]+4") == [I(0x18, 3, 6, 0, 2), I(0, 0, 0, 0, 4)]


def test_kfunc_calls():
    assert assemble("call bpf_rcu_read_lock#65499") == [I(0x85, 0, 2, 0, 65499)]
    assert assemble("call bpf_rcu_read_lock", kfuncs={"bpf_rcu_read_lock": 42}) == [I(0x85, 0, 2, 0, 42)]
    assert assemble("call kernel-function#3") == [I(0x85, 0, 2, 0, 3)]
    assert assemble("call unknown#300") == [I(0x85, 0, 0, 0, 300)]


def test_lenient_forms():
    assert assemble("r1 = *(u64 *)(r2 + 8)") == [I(0x79, 1, 2, 8)]
    assert assemble("*(u8 *)(r10-1) = 0x7f") == [I(0x72, 10, 0, -1, 0x7F)]
    assert assemble("if w1 != -1 goto pc+2") == [I(0x56, 1, 0, 2, -1)]
    assert assemble("r1 += 0xffffffff") == [I(0x07, 1, 0, 0, -1)]
    assert assemble("      3: 0.23456789 (bf) r1 = r2") == [I(0xBF, 1, 2)]
    assert assemble("  2 674: .12345.... (15) if r1 == 0x0 goto pc+1") == [I(0x15, 1, 0, 1, 0)]  # loop SCC
    assert assemble("8: (c3) lock *(u32 *)(r10 -12) |= r2          ; R2=3 fp-16=mmmmmmm?") == [
        I(0xC3, 10, 2, -12, op.BPF_OR)]
    assert assemble("; int x = 1 @ prog.c:3\n\n// nothing\n") == []
    assert disassemble([]) == ""


@pytest.mark.parametrize(
    "text,reason",
    [
        ("r1 = frobnicate", "unknown instruction"),
        ("r1 += w2", "both registers"),
        ("goto nowhere", "undefined label 'nowhere'"),
        ("call no_such_thing", "neither a label, a helper nor a known kfunc"),
        ("call bpf_map_lookup_elem#2", "has id 1, not 2"),
        ("r1 = map[missing]", "unknown map 'missing'"),
        ("r1 = *(u64 *)(r2 +40000)", "offset 40000"),
        ("r1 = 0x1ffffffffffffffff", "does not fit in 64 bits"),
        ("w1 = 0x5", "needs an r register"),
        ("r1 = 4294967296", "does not fit in 32 bits"),
        ("r16 = 1", "does not fit in 4 bits"),
        ("(07) r0 = 0", "does not match"),
        ("BUG_db", "use .insn"),
        ("r1 = -r2", "negation"),
        ("r1 = atomic_xchg((u64 *)(r10 -8), r1)", "atomic64_ goes with u64"),
        ("x:\nx:\nexit", "defined twice"),
    ],
)
def test_errors(text, reason):
    with pytest.raises(AsmError) as exc:
        assemble("r0 = 0\n" + text)
    assert reason in str(exc.value)
    assert exc.value.lineno == (3 if "twice" in reason else 2)
    assert str(exc.value).startswith(f"line {exc.value.lineno}: ")
    assert isinstance(exc.value, ValueError)


# --- lines captured from the live kernel ---------------------------------------
def _kernel_line_cases():
    for line in KERNEL_LINES.read_text().splitlines():
        if line and not line.startswith("#"):
            yield line


def test_kernel_lines_file_round_trips():
    lines = list(_kernel_line_cases())
    assert len(lines) > 300
    for line in lines:
        slots = assemble(line)
        kf = {}
        m = re.fullmatch(r"\(85\) call ([\w-]+)#(-?\d+)", line)
        if m and slots[0].src == op.BPF_PSEUDO_KFUNC_CALL:
            kf = {int(m.group(2)): m.group(1)}
        assert format_line(slots, 0, kf) == line


# --- the live kernel --------------------------------------------------------------
_LISTING = re.compile(r"^ +(?:\d+ +)?(\d+): [.0-9]{10} (.*)$")  # [loop scc] index: liveness text
_TRACE = re.compile(r"^(\d+): (\([0-9a-f]{2}\) .*?|BUG_\S+)(?: +; .*)?$")


def kernel_insn_lines(log: str) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """The ``Live regs`` listing {index: text} and the trace [(index, text)] of a level-2 log."""
    listing: dict[int, str] = {}
    trace: list[tuple[int, str]] = []
    for line in log.splitlines():
        m = _LISTING.match(line)
        if m:
            listing[int(m.group(1))] = m.group(2)
            continue
        m = _TRACE.match(line)
        if m:
            trace.append((int(m.group(1)), m.group(2)))
    return listing, trace


def _kfunc_id(name: str) -> int | None:
    """BTF id of a vmlinux kfunc through bpftool, when bpftool is there."""
    tool = shutil.which("bpftool")
    if not tool:
        return None
    out = subprocess.run([tool, "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True, check=False).stdout
    m = re.search(rf"^\[(\d+)\] FUNC '{re.escape(name)}'", out, re.MULTILINE)
    return int(m.group(1)) if m else None


def listing_program(kfunc: int | None) -> list[Insn]:
    """Every example the kernel lets through to its ``Live regs`` listing, in one program.

    Jumps keep offset 0 (to the next instruction); calls and callback references go to
    a subprogram at the end; BTF variables are left out (they need a kernel symbol).
    """
    body: list[list[Insn]] = []
    for slots in EXAMPLES:
        first = slots[0]
        if first.code == op.EXIT or first.code == op.CALL and first.src != 0:
            continue
        if first.code == op.LD_IMM64 and first.src == op.BPF_PSEUDO_BTF_ID:
            continue
        body.append(slots)
    for hid in range(-1, BPF_FUNC_MAX_ID + 2):
        body.append([I(op.CALL, 0, 0, 0, hid)])
    if kfunc is not None:
        body.append([I(op.CALL, 0, op.BPF_PSEUDO_KFUNC_CALL, 0, kfunc)])
    body.append([I(0x15, 1, 0, 1, 0), I(op.JA, 0, 0, -2)])  # forward and back
    body.append([I(0x2D, 1, 2, -1), I(0x76, 1, 0, 0, -100)])
    main = [i for s in body for i in s]
    call_at = len(main)
    main += [I(op.CALL, 0, op.BPF_PSEUDO_CALL, 0, 0), *ld64(4, 0, op.BPF_PSEUDO_FUNC), I(op.MOV64_IMM), I(op.EXIT)]
    sub = len(main)
    main[call_at] = main[call_at]._replace(imm=sub - call_at - 1)
    main[call_at + 1] = main[call_at + 1]._replace(imm=sub - call_at - 2)
    return main + [I(op.MOV64_IMM), I(op.EXIT)]


def traced_program() -> list[Insn]:
    """An accepted program that runs many instruction forms, so the trace shows them."""
    return assemble("""
        r6 = r1
        r1 = 0
        *(u64 *)(r10 -8) = r1
        *(u32 *)(r10 -12) = 7
        *(u16 *)(r10 -14) = 1
        *(u8 *)(r10 -15) = 2
        r2 = 3
        lock *(u64 *)(r10 -8) += r2
        lock *(u32 *)(r10 -12) |= r2
        r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)
        r3 = 9
        r3 = atomic64_xchg((u64 *)(r10 -8), r3)
        r0 = 0
        r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)
        r4 = *(s8 *)(r10 -15)
        r5 = *(u16 *)(r10 -14)
        w4 = (s8)w5
        r4 = (s32)r5
        r4 = bswap32 r4
        r4 = be16 r4
        r4 = le64 r4
        r4 = -r4
        w5 s/= 3
        r5 s%= r2
        r7 = 0x123456789
        r1 = map[0]
        r2 = r10
        r2 += -12
        call bpf_map_lookup_elem#1
        if r0 == 0x0 goto out
        r1 = *(u64 *)(r0 +0)
        if w1 s> 0x5 goto out
        r8 = map_value[0]+8
        r1 = *(u32 *)(r8 +0)
    out:
        may_goto next
    next:
        gotol last
    last:
        r0 = 0
        exit
    """)


def _load(insns, maps=0):
    from kernel_loader import load
    from pyverifier.program import MapSpec, Program

    specs = tuple(MapSpec(f"m{i}", 2, 4, 16, 1) for i in range(maps))  # one-element arrays (map_value needs that)
    prog = Program(id="test/isa", source="test", name="isa", prog_type=1, insns=encode(insns), maps=specs)
    res = load(prog, log_level=2)
    assert res.log, res.message
    return res


@pytest.mark.bpf
def test_kernel_listing_matches_format_line():
    kfunc = _kfunc_id("bpf_rcu_read_lock")
    insns = listing_program(kfunc)
    res = _load(insns, maps=2)
    listing, trace = kernel_insn_lines(normalize_log(res.log, insns))
    starts = [n for n in range(len(insns)) if not (n and insns[n - 1].code == op.LD_IMM64)]
    assert sorted(listing) == starts, res.log[:2000]
    kf = {kfunc: "bpf_rcu_read_lock"} if kfunc is not None else None
    for n, text in listing.items():
        assert format_line(insns, n, kf) == text, n
    for n, text in trace:
        assert format_line(insns, n, kf) == text, n


@pytest.mark.bpf
def test_kernel_trace_matches_format_line():
    insns = traced_program()
    res = _load(insns, maps=1)
    assert res.verdict == "accept", res.log
    listing, trace = kernel_insn_lines(normalize_log(res.log, insns))
    assert {n for n, _ in trace} == set(listing)  # every instruction was traced
    for n, text in [*listing.items(), *trace]:
        assert format_line(insns, n) == text, n


# valid opcodes with fields the kernel refuses later: it prints them all the same
ODD_FIELDS = [
    I(0xE5, 0, 1), I(0xBC, 1, 2, 32), I(0xB7, 1, 0, 8, 5), I(0xBC, 1, 2, 1), I(0x34, 1, 0, 2, 3),
    I(0xC3, 10, 1, -8, 0x10), I(0xDB, 10, 1, -8, 0x02), I(0x85, 0, 4, 0, 3), I(0xBF, 1, 2, 24),
    I(0x07, 1, 3, 0, -1), I(0x15, 1, 2, 0, 7), I(0x1D, 1, 2, 0, 7),
]


@pytest.mark.bpf
@pytest.mark.parametrize("insn", ODD_FIELDS, ids=lambda i: format_line([i], 0))
def test_kernel_odd_fields_match_format_line(insn):
    insns = [insn, I(op.MOV64_IMM), I(op.EXIT)]
    listing, _ = kernel_insn_lines(_load(insns).log)
    assert listing[0] == format_line(insns, 0)
    assert assemble(disassemble(insns)) == insns


def capture_kernel_lines() -> list[str]:
    """Every distinct instruction line the live kernel prints for the two test programs."""
    lines: list[str] = []
    kfunc = _kfunc_id("bpf_rcu_read_lock")
    for insns, maps in ((listing_program(kfunc), 2), (traced_program(), 1)):
        res = _load(insns, maps)
        listing, trace = kernel_insn_lines(normalize_log(res.log, insns))
        for _, text in [*listing.items(), *trace]:
            if text not in lines and not text.startswith("BUG_"):
                lines.append(text)
    return lines


if __name__ == "__main__":
    header = (
        "# Instruction lines printed by the Linux 6.18 verifier (log level 2), captured by\n"
        "# `python tests/test_isa.py`. Map ld_imm64 addresses are shown as pyverifier prints\n"
        "# them (pyverifier.disasm.normalize_log); everything else is the kernel's text.\n"
    )
    KERNEL_LINES.write_text(header + "\n".join(capture_kernel_lines()) + "\n")
    print(f"wrote {KERNEL_LINES}")


def test_normalize_log_rewrites_map_addresses_in_mark_precise_lines():
    from pyverifier.disasm import normalize_log

    insns = [Insn(0xB7, 0, 0, 0, 0)] * 3 + [Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0)]
    log = ("mark_precise: frame0: regs= stack=-24 before 3: (18) r1 = 0xffff8881dd747200\n"
           "3: (18) r1 = 0xffff8881dd747200       ; R1=map_ptr(map=m,ks=4,vs=8)\n"
           "mark_precise: frame0: regs=r0 stack= before 2: (b7) r0 = 0\n")
    out = normalize_log(log, insns)
    assert "0xffff" not in out
    assert out.splitlines()[0].endswith("before 3: (18) r1 = map[0]")
    assert out.splitlines()[2] == "mark_precise: frame0: regs=r0 stack= before 2: (b7) r0 = 0"
