"""Linked scalar registers: ids shared by copies, and their sync at conditional jumps.

``r1 = r0`` gives both registers the same id (the kernel's
assign_scalar_id_before_mov); ``r1 += 4`` right after keeps the link with a
constant delta (the id gets the ``BPF_ADD_CONST`` flag and ``off`` holds the
delta, printed ``id=N+4``). When a conditional jump refines a linked register,
every live register and spilled register with the same id gets the refined
value (shifted by the delta difference) on both branches
(collect_linked_regs / sync_linked_regs). Any other write to a register breaks
its link (the register gets id 0).
"""
from __future__ import annotations

from . import regs as R
from . import scalar as sc
from .memory import ADD_CONST, ADD_CONST32, ADD_CONST64
from .stack import STACK_SPILL, Slot

BPF_ADD = 0x00
BPF_SUB = 0x10


def after_scalar_alu(v, ins, d, src, result):
    """The register adjust_reg_min_max_vals leaves in dst after a scalar ALU op on ``d``."""
    is64 = (ins.code & 7) == 7
    o = ins.code & 0xF0
    if o in (BPF_ADD, BPF_SUB) and d.id:
        if src is None:
            const, val = True, ins.imm & ((1 << 64) - 1)
        else:
            m = src.s.var_off.mask
            const = src.type == R.SCALAR and not (m if is64 else m & 0xFFFFFFFF)
            val = src.s.var_off.value
        if const:
            if not is64:
                val &= 0xFFFFFFFF
            sval = val - (1 << 64) if val >> 63 else val
            off = _s32(val)
            # a 32-bit add keeps the link only when dst already fitted in 32 bits
            if (is64 and not -(1 << 31) <= sval < (1 << 31)) or (o == BPF_SUB and off == -(1 << 31)) or \
                    d.id & ADD_CONST or (not is64 and d.s.umax > 0xFFFFFFFF):
                return d.replace(s=result, id=0, off=0)
            if o == BPF_SUB:
                off = -off
            return d.replace(s=result, id=d.id | (ADD_CONST64 if is64 else ADD_CONST32), off=off)
    if d.id == 0 and d.off == 0:
        if not result.var_off.mask and not d.precise and d.map is None and \
                not (d.ref_obj_id or d.range or d.mem_size or d.frameno) and sc.is_known(result):
            return R.scalar_const(result.var_off.value)  # shared, its log text made once
        return d.with_s(result)
    return d.replace(s=result, id=0, off=0)


LINKED_REGS_MAX = 6


def pack(linked: list) -> int:
    """linked_regs_pack: the jump-history encoding of a list of linked registers."""
    val = 0
    for fi, is_reg, j in linked:
        val = (val << 10) | fi | (j << 3) | ((1 if is_reg else 0) << 9)
    return (val << 4) | len(linked)


def collect(v, st, id_: int, out: list | None = None) -> list:
    """collect_linked_regs: (frameno, is_reg, index) of live regs / spilled regs with this id.

    At most LINKED_REGS_MAX entries fit (``out`` may already hold some: both
    operands of a compare are collected into one list, so registers sharing
    both ids are counted twice); every further register with the id loses it,
    in ``st`` itself, as the kernel clears the id of the leftovers.
    """
    id_ &= ~ADD_CONST
    if out is None:
        out = []
    live = v.cfg.live_regs_before
    for fi in range(st.curframe, -1, -1):
        f = st.frames[fi]
        idx = v.insn_idx if fi == st.curframe else st.frames[fi + 1].callsite
        lr = live[idx] if 0 <= idx < len(live) else 0x7FF
        for j in range(10):
            if not (lr >> j) & 1:
                continue
            r = f.regs[j]
            if r.type == R.SCALAR and r.id and (r.id & ~ADD_CONST) == id_:
                if len(out) < LINKED_REGS_MAX:
                    out.append((fi, True, j))
                else:
                    f.regs[j] = r.replace(id=0)
        for j, s in enumerate(f.stack):
            if s.types[7] != STACK_SPILL:
                continue
            r = s.spilled
            if r is not None and r.type == R.SCALAR and r.id and (r.id & ~ADD_CONST) == id_:
                if len(out) < LINKED_REGS_MAX:
                    out.append((fi, False, j))
                else:
                    f.stack[j] = Slot(s.types, r.replace(id=0))
    return out


def _get(st, e):
    fi, is_reg, j = e
    f = st.frames[fi]
    return f.regs[j] if is_reg else f.stack[j].spilled


def _put(st, e, r) -> None:
    fi, is_reg, j = e
    f = st.frames[fi]
    if is_reg:
        f.regs[j] = r
    else:
        f.stack[j] = Slot(f.stack[j].types, r)


def sync(v, st, known, known_entry, linked: list) -> None:
    """sync_linked_regs of one branch: ``known`` is the refined register at ``known_entry``."""
    kid = known.id & ~ADD_CONST
    for e in linked:
        if e == known_entry:
            continue
        r = _get(st, e)
        if r is None or r.type != R.SCALAR or (r.id & ~ADD_CONST) != kid:
            continue
        if ((r.id ^ known.id) & ADD_CONST) == ADD_CONST:
            continue  # a 64-bit and a 32-bit link: their deltas do not relate
        if (not (r.id & ADD_CONST) and not (known.id & ADD_CONST)) or r.off == known.off:
            nr = known
        else:
            delta = _s32(r.off) - _s32(known.off)
            # a 32-bit link on either side makes it a 32-bit add (the kernel zero-extends)
            s = sc.alu(BPF_ADD, known.s, sc.Scalar.const(delta), not ((r.id | known.id) & ADD_CONST32))
            nr = known.replace(s=s, off=r.off, id=r.id)
        _put(st, e, nr)


def _s32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x
