"""The scalar refinement of a conditional jump on both of its paths (reg_set_min_max),
and the kernel's bounds invariant check (reg_bounds_sanity_check) after it, after
ALU ops and after loads.

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

from . import regs as R
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
    # one register in both roles is checked twice: losing its bounds can leave a constant
    # tnum out of sync with them, which the second check reports again
    tk_d = _checked(v, tk_d, "true_reg1")
    tk_s = _checked(v, tk_d if same else tk_s, "true_reg2")
    ft_d = _checked(v, ft_d, "false_reg1")
    ft_s = _checked(v, ft_d if same else ft_s, "false_reg2")
    if same:
        tk_d, ft_d = tk_s, ft_s
    # a register the condition leaves as it was stays the same object (and keeps its log text)
    ds = d.s
    regs[ins.dst] = d if ft_d == ds else d.with_s(ft_d)
    oregs[ins.dst] = d if tk_d == ds else d.with_s(tk_d)
    if x and not same:
        ss = s.s
        regs[ins.src] = s if ft_s == ss else s.with_s(ft_s)
        oregs[ins.src] = s if tk_s == ss else s.with_s(tk_s)


def check_reg(v, regno: int, ctx: str) -> None:
    """The same check of a scalar just written by an ALU op (``alu``) or a load (``ldx``)."""
    st = v.state
    regs = st.frames[st.curframe].regs
    r = regs[regno]
    if r.type == R.SCALAR:
        msg = sc.sanity_check(r.s)
        if msg is not None:
            regs[regno] = r.with_s(_violation(v, r.s, msg, ctx))


def _checked(v, s, which: str):
    msg = sc.sanity_check(s)
    return s if msg is None else _violation(v, s, msg, which)


def _violation(v, s, msg: str, which: str):
    """An invariant violation found in ``s``: logged, or under BPF_F_TEST_REG_INVARIANTS the
    program is rejected; the register keeps its tnum and loses its bounds."""
    text = f"verifier bug: REG INVARIANTS VIOLATION ({which}): {msg}"
    if v.prog.prog_flags & TEST_REG_INVARIANTS:
        v.err(text, EFAULT)
    v.log.write(text + "\n")
    return sc.mark_unbounded(s)
