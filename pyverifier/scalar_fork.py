"""The path split before ``AND``/``OR`` of a register that is either -1 or 0.

The 6.18 kernel (maybe_fork_scalars) pushes a second path at the same
instruction when an ``AND`` or ``OR`` with a constant meets a destination whose
64-bit (or else 32-bit) signed range is [-1, 0]: the pushed path has the
destination 0, the current one -1, and both then execute the instruction
(the log shows the pushed one as ``from N to N:``). scalar.fork_split decides
and gives both values; a 64-bit split makes the register a plain constant (its
id goes), a 32-bit split only fixes the low half.
"""
from __future__ import annotations


def fork(v, ins, d, split):
    """Push the 0 path; return ``d`` as the current path continues with it (-1)."""
    minus1, zero = split
    if d.s.smin == -1 and d.s.smax == 0:  # a 64-bit split: the register becomes a plain constant
        d = d.replace(id=0, off=0)
    other = v.state.copy()
    other.cur.regs[ins.dst] = d.replace(s=zero)
    v.push_stack(v.insn_idx, v.insn_idx, other)
    return d.replace(s=minus1)
