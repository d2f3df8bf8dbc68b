"""pyverifier.caches.keep: the bounded process-wide caches start again when full."""
from __future__ import annotations

from pyverifier import disasm, regs
from pyverifier.caches import keep
from pyverifier.insn import Insn


def test_keep_stores_and_returns_the_value():
    c: dict = {}
    assert keep(c, "k", 1, 4) == 1
    assert c == {"k": 1}


def test_a_full_cache_starts_again():
    c = {i: i for i in range(4)}
    assert keep(c, "new", 7, 4) == 7
    assert c == {"new": 7}


def test_the_instruction_text_cache_stays_bounded():
    disasm._LINE_CACHE.clear()
    n = disasm._LINE_CACHE_MAX + 10
    texts = [disasm.format_line([Insn(0xB7, 0, 0, 0, i)], 0) for i in range(n)]
    assert texts[-1] == f"(b7) r0 = {n - 1}"
    assert len(disasm._LINE_CACHE) <= disasm._LINE_CACHE_MAX


def test_constant_registers_stay_shared_and_bounded():
    a = regs.scalar_const(12345)
    assert regs.scalar_const(12345) is a
    for i in range(9000):
        regs.scalar_const(1_000_000 + i)
    assert len(regs._CONST_REGS) <= 8192


def test_mask_texts_stay_bounded_and_right():
    from pyverifier import precision, stack

    for m in range(1, 5000):
        stack.fmt_stack_mask(m)
        precision.fmt_reg_mask(m)
    assert len(stack._STACK_MASK_TEXT) <= 4096 and len(precision._REG_MASK_TEXT) <= 4096
    assert stack.fmt_stack_mask(0b101) == "-8,-24"
    assert precision.fmt_reg_mask(0b101) == "r0,r2"
