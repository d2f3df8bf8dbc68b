"""Open-coded iterators: ``bpf_iter_num_new`` / ``_next`` / ``_destroy`` (kfuncs).

An iterator lives in the stack (``struct bpf_iter_num``: one 8-byte slot of kind
``STACK_ITER``) and holds a reference. ``_new`` writes the slot (state active, depth 0);
``_next`` goes on as the iterator's end (state drained, R0 = 0) and queues the next
element (state active, depth + 1, R0 a read-only 4-byte pointer tied to the iterator's
reference), widening imprecise scalars against the previous iteration; the call is a
forced checkpoint where the loop converges when a queued state is RANGE_WITHIN an
iteration still being explored (``prune.is_state_visited``). ``_destroy`` frees the slot
and the reference.
"""
from __future__ import annotations

from typing import NamedTuple

from . import regs as R
from .stack import EMPTY_SLOT, STACK_ITER, Slot

EINVAL = 22
ACTIVE, DRAINED = 1, 2
_STATE_NAMES = {ACTIVE: "active", DRAINED: "drained"}
ITER_NUM_NEXT = "bpf_iter_num_next"
_ITER_TYPES = (STACK_ITER,) * 8


class IterState(NamedTuple):
    """What an iterator's slot holds (the kernel keeps it in the slot's spilled_ptr)."""
    ref_obj_id: int
    state: int
    depth: int

    # what code reading a slot's spilled register may look at (an iterator is never one)
    type = -1
    precise = False
    id = 0


def slot_text(st: IterState) -> str:
    return f"iter_num(ref_id={st.ref_obj_id},state={_STATE_NAMES[st.state]},depth={st.depth})"


def _iter_at(slot) -> IterState | None:
    """The iterator a stack slot holds, or None."""
    return slot.spilled if slot.types[7] == STACK_ITER else None


def _spi(reg) -> int | None:
    """The slot a constant, 8-byte aligned stack pointer points to (None: another offset)."""
    off = reg.off + _sval(reg.s.var_off.value)
    return (-off - 1) // 8 if off < 0 and not off % 8 else None


def _sval(x: int) -> int:
    return x - (1 << 64) if x >> 63 else x


def _slot(v, initialized: bool):
    """R1, its frame and the slot it points at, checked like is_iter_reg_valid_(un)init."""
    from .verifier import NotModelled

    reg = v.check_reg_read(1)
    if reg.type != R.PTR_TO_STACK or reg.s.var_off.mask:
        raise NotModelled("an iterator argument that is not a constant stack pointer")
    spi = _spi(reg)
    if spi is None:
        raise NotModelled("a misaligned iterator on the stack")
    f = v.state.frames[reg.frameno]
    is_iter = spi < len(f.stack) and _iter_at(f.stack[spi]) is not None
    if initialized and not is_iter:
        v.err("expected an initialized iter_num as arg #0", EINVAL)
    if not initialized and is_iter:
        v.err("expected uninitialized iter_num as arg #0", EINVAL)
    return reg, f, spi


def _clobber(v) -> list:
    regs = v.state.cur.regs
    v.clear_caller_saved(regs)
    return regs


def iter_new(v, ins) -> None:
    from . import memory, refs

    reg, f, spi = _slot(v, False)
    v.check_reg_read(2)
    v.check_reg_read(3)
    memory.check_stack_access(v, reg, 1, 0, 8, True, -1, ins)  # a write: grows the stack, marks it
    rid = refs.acquire_reference(v, v.insn_idx)
    f.stack[spi] = Slot(_ITER_TYPES, IterState(rid, ACTIVE, 0))
    v.scratched_stack |= 1 << spi
    regs = _clobber(v)
    regs[0] = R.scalar_unknown()


def iter_next(v, ins) -> None:
    reg, f, spi = _slot(v, True)
    v.live.mark_read(v.insn_idx, 1 << spi, reg.frameno)
    it = f.stack[spi].spilled
    regs = _clobber(v)
    v.id_gen += 1
    regs[0] = R.Reg(R.PTR_TO_MEM | R.MEM_RDONLY | R.PTR_MAYBE_NULL, R._ZERO_S, id=v.id_gen,
                    ref_obj_id=it.ref_obj_id, mem_size=4)
    st = v.state
    if it.state == ACTIVE:
        from .prune import find_prev_entry, widen_imprecise_scalars

        prev = find_prev_entry(v, st.parent, v.insn_idx)
        queued = st.copy()
        v.push_stack(v.insn_idx + 1, v.insn_idx, queued)
        qf = queued.frames[reg.frameno]
        qf.stack[spi] = Slot(_ITER_TYPES, IterState(it.ref_obj_id, ACTIVE, it.depth + 1))
        if prev is not None:
            widen_imprecise_scalars(v, prev, queued)
        q0 = queued.cur.regs[0]
        queued.cur.regs[0] = q0.replace(type=q0.type & ~R.PTR_MAYBE_NULL)
    f.stack[spi] = Slot(_ITER_TYPES, IterState(it.ref_obj_id, DRAINED, it.depth))
    v.scratched_stack |= 1 << spi
    regs[0] = R.scalar_const(0)


def iter_destroy(v, ins) -> None:
    from . import refs

    reg, f, spi = _slot(v, True)
    it = f.stack[spi].spilled
    v.live.mark_read(v.insn_idx, 1 << spi, reg.frameno)
    f.stack[spi] = EMPTY_SLOT
    v.live.mark_write(1 << spi, reg.frameno)
    v.scratched_stack |= 1 << spi
    refs.release_reference(v, it.ref_obj_id)
    _clobber(v)


def active_iter_of_r1(st) -> bool:
    """At an iter_next call: is the iterator R1 points to active (is_state_visited's loop test)?"""
    reg = st.cur.regs[1]
    spi = _spi(reg) if reg.type == R.PTR_TO_STACK else None
    stack = st.frames[reg.frameno].stack if spi is not None else ()
    it = _iter_at(stack[spi]) if spi is not None and spi < len(stack) else None
    return it is not None and it.state == ACTIVE


def active_depths_differ(old, cur) -> bool:
    """iter_active_depths_differ: an active iterator at another depth is not an infinite loop."""
    for fo, fc in zip(old.frames[: old.curframe + 1], cur.frames[: cur.curframe + 1]):
        for so, sc in zip(fo.stack, fc.stack):
            io = _iter_at(so)
            if io is not None and io.state == ACTIVE:
                ic = _iter_at(sc)
                if ic is None or ic.depth != io.depth:
                    return True
    return False
