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
NAMES = frozenset({"bpf_iter_num_new", ITER_NUM_NEXT, "bpf_iter_num_destroy"})
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


def _slot(v, name: str, initialized: bool):
    """The frame and spi R1 points at, checked like is_iter_reg_valid_(un)init."""
    reg = v.check_reg_read(1)
    if reg.type != R.PTR_TO_STACK or reg.s.var_off.mask:
        from .verifier import NotModelled

        raise NotModelled("an iterator argument that is not a constant stack pointer")
    off = reg.off + reg.s.var_off.value
    if off >= 0 or off % 8 and off < 0:
        from .verifier import NotModelled

        raise NotModelled("a misaligned iterator on the stack")
    off = off - (1 << 64) if off >= 1 << 63 else off
    f = v.state.frames[reg.frameno]
    spi = (-off - 1) // 8
    cur = f.stack[spi] if spi < len(f.stack) else EMPTY_SLOT
    is_iter = cur.types[7] == STACK_ITER and cur.spilled is not None
    if initialized and not is_iter:
        v.err(f"expected an initialized iter_num as arg #0", EINVAL)
    if not initialized and is_iter:
        v.err(f"expected uninitialized iter_num as arg #0", EINVAL)
    return reg, f, spi, off


def _clobber(v) -> list:
    regs = v.state.cur.regs
    for i in range(6):
        regs[i] = R.NOT_INIT_REG
    v.scratched_regs |= 0x3F
    return regs


def iter_new(v, ins) -> None:
    from . import memory, refs

    reg, f, spi, off = _slot(v, "bpf_iter_num_new", False)
    v.check_reg_read(2)
    v.check_reg_read(3)
    memory.check_stack_access(v, reg, 1, 0, 8, True, -1, ins)  # a write: grows the stack, marks it
    rid = refs.acquire_reference(v, v.insn_idx)
    f = v.state.frames[reg.frameno]
    f.stack[spi] = Slot(_ITER_TYPES, IterState(rid, ACTIVE, 0))
    v.scratched_stack |= 1 << spi
    regs = _clobber(v)
    regs[0] = R.scalar_unknown()


def iter_next(v, ins) -> None:
    reg, f, spi, _off = _slot(v, ITER_NUM_NEXT, True)
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

    reg, f, spi, _off = _slot(v, "bpf_iter_num_destroy", True)
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
    if reg.type != R.PTR_TO_STACK:
        return False
    off = reg.off + reg.s.var_off.value
    off = off - (1 << 64) if off >= 1 << 63 else off
    spi = (-off - 1) // 8
    f = st.frames[reg.frameno]
    if spi >= len(f.stack):
        return False
    slot = f.stack[spi]
    return slot.types[7] == STACK_ITER and slot.spilled is not None and slot.spilled.state == ACTIVE


def active_depths_differ(old, cur) -> bool:
    """iter_active_depths_differ: an active iterator at another depth is not an infinite loop."""
    for fo, fc in zip(old.frames[: old.curframe + 1], cur.frames[: cur.curframe + 1]):
        for so, sc in zip(fo.stack, fc.stack):
            if so.types[7] == STACK_ITER and so.spilled is not None and so.spilled.state == ACTIVE:
                if sc.spilled is None or getattr(sc.spilled, "depth", None) != so.spilled.depth:
                    return True
    return False
