"""The scalar refinement of a conditional jump on both of its paths (reg_set_min_max).

Both operands are narrowed by the jump's condition on the taken path and by
its negation on the fall-through path. A register compared with itself
(``if r1 > r1``) is refined through both roles one after the other, as the
kernel does, which can leave bounds that contradict each other. Every refined
register is then checked in the kernel's order (``true_reg1``, ``true_reg2``,
``false_reg1``, ``false_reg2``): a violation is logged as the kernel logs it
(``verifier bug: REG INVARIANTS VIOLATION (<which>): ...``) and the register
loses its bounds (its tnum stays), or, under ``BPF_F_TEST_REG_INVARIANTS``, the
program is rejected with EFAULT.
"""
from __future__ import annotations

from . import scalar as sc

EFAULT = 14
TEST_REG_INVARIANTS = 1 << 7


def set_min_max(v, ins, d, s, o: int, is32: bool, regs: list, oregs: list) -> None:
    """Refine dst (``d``) and src (``s``, the constant for a K jump) in ``regs`` (fall-through)
    and ``oregs`` (taken). Both must be scalars."""
    x = bool(ins.code & 8)
    same = x and ins.src == ins.dst
    ft_d, ft_s = sc.refine(d.s, s.s, sc.negate_op(o), is32, same)
    tk_d, tk_s = sc.refine(d.s, s.s, o, is32, same)
    tk_d = _checked(v, tk_d, "true_reg1")
    tk_s = tk_d if same else _checked(v, tk_s, "true_reg2")
    ft_d = _checked(v, ft_d, "false_reg1")
    ft_s = ft_d if same else _checked(v, ft_s, "false_reg2")
    regs[ins.dst] = d.replace(s=ft_d)
    oregs[ins.dst] = d.replace(s=tk_d)
    if x and not same:
        regs[ins.src] = s.replace(s=ft_s)
        oregs[ins.src] = s.replace(s=tk_s)


def _checked(v, s, which: str):
    msg = sc.sanity_check(s)
    if msg is None:
        return s
    text = f"verifier bug: REG INVARIANTS VIOLATION ({which}): {msg}"
    if v.prog.prog_flags & TEST_REG_INVARIANTS:
        v.err(text, EFAULT)
    v.log.write(text + "\n")
    return sc.mark_unbounded(s)
