"""Built-in corpus families about scalars: ALU range tracking, branch refinement, division.

Each program of a family asks the verifier one question about its scalar
tracking: after this operation (or on this side of this comparison), is the
value still known to fit the 256-byte map value it then indexes? Whether the
answer is yes is the kernel's to say (``check_corpus --update``); both answers
are useful to the comparison.
"""
from __future__ import annotations

from typing import Callable

from .gen_header import program

VALS = "vals type=array key=4 value=256 entries=1"

# r6 = ctx, r7 = a 256-byte map value; falls to "out" (return 0) when the lookup fails
_LOOKUP = [
    "r6 = r1",
    "*(u32 *)(r10 -4) = 0",
    "r2 = r10",
    "r2 += -4",
    "r1 = map[vals]",
    "call bpf_map_lookup_elem#1",
    "if r0 == 0x0 goto out",
    "r7 = r0",
]
# index the value with r1 and return
_INDEX = ["r7 += r1", "r0 = *(u8 *)(r7 +0)", "out:", "r0 = 0", "exit"]

LEN = "r1 = *(u32 *)(r6 +0)"  # skb->len: an unknown u32
PROTO = "r2 = *(u32 *)(r6 +16)"  # skb->protocol: another unknown u32

# name -> (lines computing r1, what it checks)
ALU64: dict[str, tuple[list[str], str]] = {
    "add_imm": ([LEN, "r1 &= 63", "r1 += 100"], "[0,63] + 100 stays in [100,163]"),
    "add_reg": ([LEN, "r1 &= 63", PROTO, "r2 &= 127", "r1 += r2"], "adding two bounded unknowns adds their bounds"),
    "sub_reg": ([LEN, "r1 &= 63", PROTO, "r2 &= 31", "r1 += 32", "r1 -= r2"],
                "[32,95] minus [0,31] keeps a non-negative minimum"),
    "sub_imm_negative": ([LEN, "r1 &= 63", "r1 -= 10"], "[0,63] - 10 may be negative: the index's minimum is below zero"),
    "mul_imm": ([LEN, "r1 &= 63", "r1 *= 3"], "[0,63] * 3 stays below 256"),
    "mul_reg": ([LEN, "r1 &= 63", PROTO, "r2 &= 3", "r1 *= r2"], "the product of two small unknowns is bounded"),
    "div_imm": ([LEN, "r1 /= 16777216"], "an unknown u32 divided by 2^24: is unsigned division tracked"),
    "mod_imm": ([LEN, "r1 %= 200"], "an unknown modulo 200: is the remainder's range known"),
    "or_imm": ([LEN, "r1 &= 63", "r1 |= 128"], "setting bit 7 of a 6-bit value gives [128,191]"),
    "and_reg": ([LEN, PROTO, "r2 &= 255", "r1 &= r2"], "AND with a bounded register bounds the result"),
    "xor_imm": ([LEN, "r1 &= 63", "r1 ^= 192"], "XOR with a constant moves the known bits"),
    "lsh_imm": ([LEN, "r1 &= 63", "r1 <<= 2"], "a 6-bit value shifted left by 2 fits in 8 bits"),
    "lsh_reg": ([LEN, "r1 &= 63", PROTO, "r2 &= 1", "r1 <<= r2"], "a shift by an unknown amount in [0,1]"),
    "rsh_imm": ([LEN, "r1 >>= 24"], "the top byte of a u32 by a right shift"),
    "rsh_reg": ([LEN, PROTO, "r2 &= 7", "r2 += 24", "r1 >>= r2"], "a right shift by an unknown amount in [24,31]"),
    "arsh_imm": ([LEN, "r1 s>>= 24"], "arithmetic shift of a zero-extended u32 keeps it non-negative"),
    "neg": ([LEN, "r1 &= 63", "r1 = -r1", "r1 += 63"], "negation then an offset brings [-63,0] back to [0,63]"),
    "movsx8_small": ([LEN, "r1 &= 63", "r1 = (s8)r1"], "sign-extending a byte below 128 keeps its range"),
    "movsx8_negative": ([LEN, "r1 &= 255", "r1 = (s8)r1"], "sign-extending an unknown byte may give a negative index"),
    "bswap16": ([LEN, "r1 &= 63", "r1 = bswap16 r1"], "a byte swap moves the known bits to the high byte"),
    "le32_truncate": ([LEN, "r1 &= 63", "r1 = le32 r1"], "le32 on a little-endian host only truncates: bounds survive"),
}

ALU32: dict[str, tuple[list[str], str]] = {
    "add_imm": ([LEN, "w1 &= 63", "w1 += 100"], "32-bit add of a constant to a 6-bit value"),
    "sub_wrap": ([LEN, "w1 &= 63", "w1 -= 10"], "32-bit subtraction wraps below zero to a huge zero-extended value"),
    "mul_imm": ([LEN, "w1 &= 15", "w1 *= 15"], "32-bit multiply of a 4-bit value"),
    "div_imm": ([LEN, "w1 /= 16777216"], "32-bit unsigned division by 2^24"),
    "mod_imm": ([LEN, "w1 %= 255"], "32-bit modulo by a constant"),
    "or_imm": ([LEN, "w1 &= 15", "w1 |= 240"], "32-bit OR then zero extension"),
    "xor_reg": ([LEN, "w1 &= 127", PROTO, "w2 &= 127", "w1 ^= w2"], "32-bit XOR of two 7-bit values"),
    "lsh_imm": ([LEN, "w1 &= 31", "w1 <<= 3"], "32-bit left shift of a 5-bit value"),
    "rsh_imm": ([LEN, "w1 >>= 24"], "32-bit right shift to the top byte"),
    "arsh_imm": ([LEN, "w1 s>>= 24"], "32-bit arithmetic shift: the sign bit of the low word is unknown"),
    "neg": ([LEN, "w1 &= 63", "w1 = -w1", "w1 += 63"], "32-bit negation then an offset"),
    "zext_of_64bit": (["call bpf_ktime_get_ns#5", "r1 = r0", "w1 &= 255"],
                      "a 32-bit AND of a 64-bit unknown zero-extends: the upper half becomes 0"),
    "movsx16": ([LEN, "w1 &= 127", "w1 = (s16)w1"], "32-bit sign extension of a small half-word"),
}


def _alu(name: str, lines: list[str], what: str, width: int) -> Callable[[], str]:
    prefix = "alu_range" if width == 64 else "alu32_range"
    tags = "alu, map, memory" if width == 64 else "alu32, alu, map, memory"

    def gen() -> str:
        return program(
            f"{prefix}_{name}", "socket_filter", tags,
            f"range tracking of {width}-bit {name.split('_')[0]}: {what}; the result indexes a 256-byte map value",
            _LOOKUP + lines + _INDEX, maps=[VALS],
        )
    return gen


# --- branch refinement: which side of which comparison bounds an unknown -----------
# name -> (lines computing r1, the comparison lines that leave r1 bounded when falling through, what)
# falls through to the access, jumps to "out" otherwise
JMP: dict[str, tuple[list[str], list[str], str]] = {
    "jgt": ([LEN], ["if r1 > 0xff goto out"], "the false side of > bounds above"),
    "jge": ([LEN], ["if r1 >= 0x100 goto out"], "the false side of >= bounds above"),
    "jlt": ([LEN], ["if r1 < 0x100 goto ok", "goto out", "ok:"], "the true side of < bounds above"),
    "jle": ([LEN], ["if r1 <= 0xff goto ok", "goto out", "ok:"], "the true side of <= bounds above"),
    "jeq": ([LEN], ["if r1 == 0x11 goto ok", "goto out", "ok:"], "the true side of == makes a constant"),
    "jne": ([LEN], ["if r1 != 0x11 goto out"], "the false side of != makes a constant"),
    "jset": ([LEN], ["if r1 & 0xffffff00 goto out"], "the false side of & clears the tested bits"),
    "jsgt_signed": ([LEN, "r1 = (s32)r1"], ["if r1 s> 0xff goto out", "if r1 s< 0x0 goto out"],
                    "a sign-extended value checked on both sides with signed comparisons"),
    "jsge_signed": ([LEN, "r1 = (s32)r1"], ["if r1 s>= 0x100 goto out", "if r1 s>= 0x0 goto ok", "goto out", "ok:"],
                    "signed >= on both ends"),
    "jslt_signed": ([LEN, "r1 = (s32)r1"], ["if r1 s< 0x0 goto out", "if r1 s< 0x100 goto ok", "goto out", "ok:"],
                    "signed < on both ends"),
    "jsle_signed": ([LEN, "r1 = (s32)r1"], ["if r1 s<= 0xff goto ok", "goto out", "ok:", "if r1 s<= -1 goto out"],
                    "signed <= on both ends"),
    "jsgt_only_upper": ([LEN, "r1 = (s32)r1"], ["if r1 s> 0xff goto out"],
                        "a signed upper bound alone leaves a negative minimum"),
    "jgt_wrong_side": ([LEN], ["if r1 > 0xff goto ok", "goto out", "ok:"], "the true side of > is not bounded above"),
    "jgt_reg": ([LEN, "r2 = 255"], ["if r1 > r2 goto out"], "comparison with a constant held in a register"),
    "jlt_range_reg": ([LEN, PROTO, "r2 &= 255"], ["if r1 < r2 goto ok", "goto out", "ok:"],
                      "r1 < r2 with r2 in [0,255]: r1's maximum is r2's maximum minus one"),
    "jgt_off_by_one": ([LEN], ["if r1 > 0x100 goto out"], "bounded to 256 where 255 is the last valid byte"),
    "jgt32": ([LEN], ["if w1 > 0xff goto out"], "a 32-bit comparison of a zero-extended u32 bounds all 64 bits"),
    "jgt32_of_64bit": (["call bpf_ktime_get_ns#5", "r1 = r0"], ["if w1 > 0xff goto out"],
                       "a 32-bit comparison of a 64-bit unknown leaves the upper half unknown"),
    "jlt32": ([LEN], ["if w1 < 0x100 goto ok", "goto out", "ok:"], "32-bit < on the true side"),
    "jset32": ([LEN], ["if w1 & 0xffffff00 goto out"], "32-bit & on the false side"),
    "jsle32": ([LEN], ["if w1 s<= 0xff goto ok", "goto out", "ok:", "if w1 s< 0x0 goto out"],
               "32-bit signed comparisons on both ends"),
    "jeq_reg_reg": ([LEN, PROTO, "r2 &= 127"], ["if r1 == r2 goto ok", "goto out", "ok:"],
                    "equality with a bounded register gives its bounds to the other one"),
}


def _jmp(name: str, setup: list[str], cmp: list[str], what: str) -> Callable[[], str]:
    tags = "branch, map, memory" + (", alu32" if "32" in name else "")

    def gen() -> str:
        head = _LOOKUP + setup
        return program(
            f"branch_refine_{name}", "socket_filter", tags,
            f"branch refinement: {what}; the refined value indexes a 256-byte map value",
            head + cmp + _INDEX, maps=[VALS],
        )
    return gen


# --- division and modulo -------------------------------------------------------------
DIV: dict[str, tuple[list[str], str]] = {
    "reject_div64_imm_zero": (["r0 = *(u32 *)(r1 +0)", "r0 /= 0", "exit"], "64-bit division by the immediate 0"),
    "reject_mod32_imm_zero": (["r0 = *(u32 *)(r1 +0)", "w0 %= 0", "exit"], "32-bit modulo by the immediate 0"),
    "reject_sdiv64_imm_zero": (["r0 = *(u32 *)(r1 +0)", "r0 s/= 0", "exit"], "64-bit signed division by the immediate 0"),
    "reject_smod32_imm_zero": (["r0 = *(u32 *)(r1 +0)", "w0 s%= 0", "exit"], "32-bit signed modulo by the immediate 0"),
    "mod_by_zero_reg_keeps_dst": (
        ["r6 = r1", "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[vals]",
         "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r1 = *(u32 *)(r6 +0)", "r1 &= 127",
         "r2 = 0", "r1 %= r2", "r0 += r1", "r0 = *(u8 *)(r0 +0)", "out:", "r0 = 0", "exit"],
        "modulo by a register holding 0 leaves the dividend as it was at run time; is its range kept"),
    "sdiv_int_min_by_minus_one": (
        ["r1 = -9223372036854775808 ll", "r2 = -1", "r1 s/= r2", "r0 = r1", "r0 &= 1", "exit"],
        "INT64_MIN s/ -1 is defined in BPF (the result is INT64_MIN), accepted"),
    "div32_by_unknown_reg": (
        ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +16)", "w2 /= w3", "w3 %= w2", "r0 = r3", "r0 &= 1", "exit"],
        "32-bit division and modulo by unknown registers (zero allowed at run time)"),
    "sdiv_smod_mixed_signs": (
        ["r2 = *(u32 *)(r1 +0)", "r2 = (s32)r2", "r3 = r2", "r3 s/= -3", "r4 = r2", "r4 s%= -3", "w5 = w2",
         "w5 s/= 7", "r0 = r3", "r0 += r4", "r0 += r5", "r0 &= 1", "exit"],
        "signed division and modulo by negative and positive constants, 64- and 32-bit"),
}


def _div(name: str, body: list[str], what: str) -> Callable[[], str]:
    maps = [VALS] if any("map[vals]" in b for b in body) else []

    def gen() -> str:
        return program(name, "socket_filter", "alu, alu32, div" if "32" in name else "alu, div",
                       what, body, maps=maps)
    return gen


GENERATORS: dict[str, Callable[[], str]] = {}
for _n, (_l, _w) in ALU64.items():
    GENERATORS[f"alu_range_{_n}"] = _alu(_n, _l, _w, 64)
for _n, (_l, _w) in ALU32.items():
    GENERATORS[f"alu32_range_{_n}"] = _alu(_n, _l, _w, 32)
for _n, (_s, _c, _w) in JMP.items():
    GENERATORS[f"branch_refine_{_n}"] = _jmp(_n, _s, _c, _w)
for _n, (_b, _w) in DIV.items():
    GENERATORS[_n] = _div(_n, _b, _w)
