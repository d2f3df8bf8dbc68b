"""Precision tracking: the jump history of a path and backtracking of precise scalars.

The kernel keeps every scalar imprecise until some decision depends on its exact
value (a known branch outcome, a pointer offset, a helper's size argument...).
Then it walks the instructions of the current path backwards (the instructions
of the current state, then those of each parent checkpoint), following the
registers and stack slots that contributed to the value, and marks them precise
in the parent checkpoints, so that pruning later compares them by range.

Entry points for the rest of the verifier:

* :func:`mark_chain_precision` ``(v, regno)`` where the kernel calls
  ``mark_chain_precision(env, regno)``;
* :func:`push_jmp_history` ``(v, st, flags)`` where the kernel records an
  instruction in the jump history (jump targets, spills and fills, comparisons
  with stack pointers);
* :func:`stack_access_flags` ``(frameno, spi)``: the history flags of a spill
  or fill of slot ``spi`` of frame ``frameno`` (pass them to ``push_jmp_history``);
* :func:`propagate_precision` ``(v, old, cur)``: after a state matched ``old``,
  make the scalars that were precise in ``old`` precise along ``cur``'s path.

``v`` is the exploration loop (``verifier._Verifier``); a state's jump history
is a list of ``(idx, prev_idx, flags, linked_regs)`` tuples.
"""
from __future__ import annotations

from . import opcodes as op
from .caches import keep
from .cfg import SYNC_CALLBACK_HELPERS
from .regs import SCALAR
from .stack import STACK_SPILL, Slot, fmt_stack_mask

MAX_CALL_FRAMES = 8

INSN_F_FRAMENO_MASK = 0x7
INSN_F_SPI_MASK = 0x3F
INSN_F_SPI_SHIFT = 3
INSN_F_STACK_ACCESS = 1 << 9
INSN_F_DST_REG_STACK = 1 << 10
INSN_F_SRC_REG_STACK = 1 << 11

REGMASK_ARGS = 0x3E  # r1..r5
_REG_FP = 10
_ENOTSUPP = object()


def stack_access_flags(frameno: int, spi: int) -> int:
    return INSN_F_STACK_ACCESS | (spi << INSN_F_SPI_SHIFT) | frameno


def push_jmp_history(v, st, flags: int = 0, linked_regs: int = 0) -> None:
    """Record the current instruction in ``st``'s jump history (once per instruction)."""
    h = st.jmp_history
    if v.cur_hist_ent:
        idx, prev, f, _ = h[-1]
        h[-1] = (idx, prev, f | flags, linked_regs)
        return
    h.append((v.insn_idx, v.prev_insn_idx, flags, linked_regs))
    v.cur_hist_ent = True


class Backtrack:
    """The kernel's backtrack_state: registers and slots still to explain, per frame."""

    __slots__ = ("frame", "regs", "stack")

    def __init__(self, frame: int):
        self.frame = frame
        self.regs = [0] * MAX_CALL_FRAMES
        self.stack = [0] * MAX_CALL_FRAMES

    def empty(self) -> bool:
        f = self.frame
        if f == 0:
            return not self.regs[0] and not self.stack[0]
        return not any(self.regs[: f + 1]) and not any(self.stack[: f + 1])

    def reset(self) -> None:
        for i in range(MAX_CALL_FRAMES):
            self.regs[i] = 0
            self.stack[i] = 0


_REG_MASK_TEXT: dict[int, str] = {}


def fmt_reg_mask(mask: int) -> str:
    t = _REG_MASK_TEXT.get(mask)
    if t is None:
        t = keep(_REG_MASK_TEXT, mask, ",".join(f"r{i}" for i in range(32) if mask >> i & 1), 4096)
    return t


class _FrameView:
    """What ``print_state`` reads of a state, for a frame other than the current one."""

    __slots__ = ("cur", "refs")

    def __init__(self, st, fr: int):
        self.cur = st.frames[fr]
        self.refs = st.refs


def frame_view(st, fr: int):
    """``st`` as ``print_state`` reads it for its frame ``fr`` (``st`` itself for the current frame)."""
    return st if fr == st.curframe else _FrameView(st, fr)


def _print_state(v, st, fr: int) -> None:
    v.print_state(frame_view(st, fr), True)


def mark_chain_precision(v, regno: int) -> bool:
    """``mark_chain_precision(env, regno)`` on the current state."""
    return mark_chain_precision_from(v, v.state, regno)


def mark_chain_precision_from(v, starting_state, regno: int, bt: Backtrack | None = None) -> bool:
    """``__mark_chain_precision``: returns True when some mark changed."""
    st = starting_state
    if bt is None:
        bt = Backtrack(st.curframe)
    first_idx = st.first_insn_idx
    last_idx = st.insn_idx
    subseq_idx = -1
    skip_first = True
    changed = False
    level2 = v.log.level2
    log = v.log
    if regno >= 0:
        reg = st.frames[bt.frame].regs[regno]
        if reg.type != SCALAR:
            raise _not_modelled("precision of a non-scalar (verifier bug in the kernel)")
        bt.regs[bt.frame] |= 1 << regno
    if bt.empty():
        return False
    n = len(v.insns)
    while True:
        history = len(st.jmp_history)
        if level2:
            log.write(f"mark_precise: frame{bt.frame}: last_idx {last_idx} first_idx {first_idx} "
                      f"subseq_idx {subseq_idx} \n")
        if last_idx < 0:
            raise _not_modelled("backtracking into a subprogram entry")
        i = last_idx
        jh = st.jmp_history
        st_first = st.first_insn_idx
        bregs = bt.regs
        bstack = bt.stack
        while True:
            # the history entry of instruction i, if it has one (newest unconsumed entry)
            hist = jh[history - 1] if history and jh[history - 1][0] == i else None
            if skip_first:
                err = None
                skip_first = False
            else:
                err = backtrack_insn(v, i, subseq_idx, hist, bt)
            if err is _ENOTSUPP:
                mark_all_scalars_precise(v, starting_state)
                bt.reset()
                return changed
            if (not bregs[0] and not bstack[0]) if bt.frame == 0 else bt.empty():
                return changed
            subseq_idx = i
            # get_prev_insn_idx
            if i == st_first:
                if history == 0:
                    break
                if history == 1 and jh[0][0] == i:
                    break
            if hist is not None:
                i = hist[1]
                history -= 1
            else:
                i -= 1
            if i >= n or i < 0:
                raise _not_modelled(f"backtracking idx {i}")
        st = st.parent
        if st is None:
            break
        for fr in range(bt.frame, -1, -1):
            func = st.frames[fr]
            regs = func.regs
            mask = bt.regs[fr]
            j = 0
            while mask >> j:
                if mask >> j & 1:
                    reg = regs[j]
                    if reg.type != SCALAR or reg.precise:
                        bt.regs[fr] &= ~(1 << j)
                    else:
                        regs[j] = reg.replace(precise=True)
                        changed = True
                j += 1
            smask = bt.stack[fr]
            j = 0
            while smask >> j:
                if smask >> j & 1:
                    if j >= len(func.stack):
                        raise _not_modelled("backtracking into an unallocated stack slot")
                    slot = func.stack[j]
                    sp = slot.spilled
                    if slot.types[7] != STACK_SPILL or sp is None or sp.type != SCALAR:
                        bt.stack[fr] &= ~(1 << j)
                    elif sp.precise:
                        bt.stack[fr] &= ~(1 << j)
                    else:
                        func.stack[j] = Slot(slot.types, sp.replace(precise=True))
                        changed = True
                j += 1
            if level2:
                log.write(f"mark_precise: frame{fr}: parent state regs={fmt_reg_mask(bt.regs[fr])} "
                          f"stack={fmt_stack_mask(bt.stack[fr])}: ")
                _print_state(v, st, fr)
        if bt.empty():
            return changed
        subseq_idx = first_idx
        last_idx = st.last_insn_idx
        first_idx = st.first_insn_idx
    if not bt.empty():
        mark_all_scalars_precise(v, starting_state)
        bt.reset()
    return changed


def _not_modelled(what: str):
    from .verifier import NotModelled

    return NotModelled(what)


def _def_regno(ins) -> int:
    """The register an atomic instruction loads into, -1 for none."""
    imm = ins.imm
    if imm == op.BPF_CMPXCHG:
        return 0
    if imm == op.BPF_LOAD_ACQ:
        return ins.dst
    if imm == op.BPF_STORE_REL:
        return -1
    if imm & op.BPF_FETCH:
        return ins.src
    return -1


def _sync_linked(bt: Backtrack, hist) -> None:
    """bt_sync_linked_regs: one precise member of a linked group makes the whole group precise."""
    if hist is None or not hist[3]:
        return
    val = hist[3]
    cnt = val & 0xF
    val >>= 4
    entries = []
    for _ in range(cnt):
        e = val & 0x3FF
        val >>= 10
        entries.append((e & 7, (e >> 3) & 0x3F, (e >> 9) & 1))
    for fr, j, is_reg in entries:
        if (bt.regs[fr] if is_reg else bt.stack[fr]) >> j & 1:
            break
    else:
        return
    for fr, j, is_reg in entries:
        if is_reg:
            bt.regs[fr] |= 1 << j
        else:
            bt.stack[fr] |= 1 << j


def backtrack_insn(v, idx: int, subseq_idx: int, hist, bt: Backtrack):
    """One step back: which registers/slots must be precise before insn ``idx``."""
    ins = v.insns[idx]
    if ins.code == 0:
        return None
    fr = bt.frame
    log = v.log
    if log.level2:
        log.write(f"mark_precise: frame{fr}: regs={fmt_reg_mask(bt.regs[fr])} "
                  f"stack={fmt_stack_mask(bt.stack[fr])} before {idx}: {v._fmt_insn(idx)}\n")
    linked = hist is not None and hist[3]
    if linked:
        _sync_linked(bt, hist)
    if ins.code == 0x85 and ins.src == op.BPF_PSEUDO_CALL and _calls_global(v, idx + ins.imm + 1):
        # a global function is verified on its own: the path never entered it, and R0 is its fresh result
        if bt.regs[fr] & REGMASK_ARGS:
            raise _not_modelled(f"backtracking: global subprog unexpected regs {bt.regs[fr]:x}")
        bt.regs[fr] &= ~1
        return None
    r = _backtrack(ins, hist, bt, subseq_idx, v.insns, idx, v.cfg.calls_callback)
    if r is _END:
        if linked:
            _sync_linked(bt, hist)
        return None
    return r


_END = object()


def _calls_global(v, target: int) -> bool:
    funcs = v.func_btf
    if funcs is None:
        return False
    from .progbtf import FUNC_GLOBAL

    return funcs[v.cfg.subprog_starts.index(target)].linkage == FUNC_GLOBAL
# opcode fields of _backtrack's hot tests, as plain globals (classes are the literal numbers
# of the instruction set: LD 0, LDX 1, ST 2, STX 3, ALU 4, JMP 5, JMP32 6, ALU64 7)
_END_OP, _NEG_OP, _MOV_OP, _CALL_OP, _EXIT_OP = op.BPF_END, op.BPF_NEG, op.BPF_MOV, op.BPF_CALL, op.BPF_EXIT
assert (op.BPF_LD, op.BPF_LDX, op.BPF_ST, op.BPF_STX, op.BPF_ALU, op.BPF_JMP, op.BPF_JMP32, op.BPF_ALU64) == \
    (0, 1, 2, 3, 4, 5, 6, 7)


def _backtrack_exit(bt: Backtrack, fr: int, subseq_idx: int, insns, cb_calls=frozenset()):
    """Going back over a subprogram's exit: the path enters the callee's frame.

    Only R0 crosses the boundary (when the next instruction of the path follows a
    call, i.e. this was a subprogram's return); the caller's r6-r9 and stack marks
    wait in their frame until the backtrack leaves the callee again at its call.
    """
    regs = bt.regs
    if subseq_idx >= 0 and subseq_idx in cb_calls:
        regs[fr] &= ~REGMASK_ARGS  # a callback's r1-r5 come from the helper that calls it
    if regs[fr] & REGMASK_ARGS:
        raise _not_modelled(f"backtracking exit unexpected regs {regs[fr]:x}")
    r0 = False
    if subseq_idx >= 1:
        prev = insns[subseq_idx - 1]
        r0 = (prev.code == op.BPF_JMP | op.BPF_CALL and prev.src == op.BPF_PSEUDO_CALL
              and bool(regs[fr] & 1))
    regs[fr] &= ~1
    if fr == MAX_CALL_FRAMES - 1:
        raise _not_modelled("backtracking: exit below the deepest frame")
    bt.frame = fr + 1
    if r0:
        regs[fr + 1] |= 1
    return None


def _backtrack(ins, hist, bt: Backtrack, subseq_idx: int = -1, insns=None, idx: int = -1, cb_calls=frozenset()):
    """The body of backtrack_insn: ``_END`` when it reaches the kernel's final linked-regs sync."""
    code = ins.code
    fr = bt.frame
    cls = code & 7
    opc = code & 0xF0
    dreg = ins.dst
    sreg = ins.src
    regs = bt.regs
    if cls == 4 or cls == 7:
        if not regs[fr] >> dreg & 1:
            return None
        if opc == _END_OP or opc == _NEG_OP:
            return None
        if opc == _MOV_OP:
            regs[fr] &= ~(1 << dreg)
            if code & 8 and sreg != _REG_FP:
                regs[fr] |= 1 << sreg
        elif code & 8:
            if sreg != _REG_FP:
                regs[fr] |= 1 << sreg
        return _END
    load_reg = -1
    if cls == 1:
        load_reg = dreg
    elif cls == 3 and (code & 0xE0) == op.BPF_ATOMIC and ins.imm == op.BPF_LOAD_ACQ:
        # 6.18 backtracks load-acquire like a load; the fetch forms (fetch-add, xchg, cmpxchg)
        # leave their register in the precise set (checked against the live kernel's log)
        load_reg = _def_regno(ins)
    if load_reg >= 0:
        if not regs[fr] >> load_reg & 1:
            return None
        regs[fr] &= ~(1 << load_reg)
        if hist is None or not hist[2] & INSN_F_STACK_ACCESS:
            return None
        flags = hist[2]
        spi = (flags >> INSN_F_SPI_SHIFT) & INSN_F_SPI_MASK
        sfr = flags & INSN_F_FRAMENO_MASK
        bt.stack[sfr] |= 1 << spi
        return _END
    if cls == 3 or cls == 2:
        if regs[fr] >> dreg & 1:
            return _ENOTSUPP
        if hist is None or not hist[2] & INSN_F_STACK_ACCESS:
            return None
        flags = hist[2]
        spi = (flags >> INSN_F_SPI_SHIFT) & INSN_F_SPI_MASK
        sfr = flags & INSN_F_FRAMENO_MASK
        if not bt.stack[sfr] >> spi & 1:
            return None
        bt.stack[sfr] &= ~(1 << spi)
        if cls == 3:
            regs[fr] |= 1 << sreg
        return _END
    if cls == 5 or cls == 6:
        if opc == _CALL_OP:
            if ins.src == op.BPF_PSEUDO_CALL:
                # going back over a static call: the callee's frame is left; what is
                # still wanted there can only be its arguments, which the caller set
                if regs[fr] & ~REGMASK_ARGS:
                    raise _not_modelled(f"backtracking: static subprog unexpected regs {regs[fr]:x}")
                if bt.stack[fr]:
                    raise _not_modelled(f"backtracking: static subprog leftover stack slots {bt.stack[fr]:x}")
                if fr == 0:
                    raise _not_modelled("backtracking: call instruction in the main frame")
                regs[fr - 1] |= regs[fr]
                regs[fr] = 0
                bt.frame = fr - 1
                return None
            if ins.src == 0 and ins.imm in SYNC_CALLBACK_HELPERS and idx != subseq_idx - 1:
                # back over a callback's return to the helper that called it: r1-r5 were set by
                # the helper, not passed by the caller, so nothing of them goes to the caller
                if regs[fr] & ~REGMASK_ARGS:
                    raise _not_modelled(f"backtracking: callback unexpected regs {regs[fr]:x}")
                if bt.stack[fr]:
                    raise _not_modelled(f"backtracking: callback leftover stack slots {bt.stack[fr]:x}")
                if fr == 0:
                    raise _not_modelled("backtracking: callback return in the main frame")
                regs[fr] = 0
                bt.frame = fr - 1
                return None
            if ins.src == op.BPF_PSEUDO_KFUNC_CALL and ins.imm == 0:
                return _ENOTSUPP
            regs[fr] &= ~1
            if regs[fr] & REGMASK_ARGS:
                raise _not_modelled(f"backtracking call unexpected regs {regs[fr]:x}")
            return _END
        if opc == _EXIT_OP:
            return _backtrack_exit(bt, fr, subseq_idx, insns, cb_calls)
        if code & 8:
            if not (regs[fr] >> dreg & 1) and not (regs[fr] >> sreg & 1):
                return None
            flags = hist[2] if hist is not None else 0
            if not flags & INSN_F_SRC_REG_STACK:
                regs[fr] |= 1 << sreg
            if not flags & INSN_F_DST_REG_STACK:
                regs[fr] |= 1 << dreg
        return _END
    if cls == 0:
        if not regs[fr] >> dreg & 1:
            return None
        regs[fr] &= ~(1 << dreg)
        if code != op.LD_IMM64:
            return _ENOTSUPP
    return _END


def mark_all_scalars_precise(v, st) -> None:
    """The big hammer: every scalar of every parent checkpoint of ``st`` becomes precise."""
    log = v.log
    level2 = log.level2
    if level2:
        log.write(f"mark_precise: frame{st.curframe}: falling back to forcing all scalars precise\n")
    st = st.parent
    while st is not None:
        for i, func in enumerate(st.frames[: st.curframe + 1]):
            regs = func.regs
            for j in range(10):
                r = regs[j]
                if r.type != SCALAR or r.precise:
                    continue
                regs[j] = r.replace(precise=True)
                if level2:
                    log.write(f"force_precise: frame{i}: forcing r{j} to be precise\n")
            stack = func.stack
            for j, slot in enumerate(stack):
                if slot.types[7] != STACK_SPILL:
                    continue
                r = slot.spilled
                if r is None or r.type != SCALAR or r.precise:
                    continue
                stack[j] = Slot(slot.types, r.replace(precise=True))
                if level2:
                    log.write(f"force_precise: frame{i}: forcing fp{-(j + 1) * 8} to be precise\n")
        st = st.parent


def mark_all_scalars_imprecise(st) -> None:
    """Forget the precision marks ``st`` inherited (done to a state before it is checkpointed)."""
    for func in st.frames[: st.curframe + 1]:
        regs = func.regs
        for j in range(10):
            r = regs[j]
            if r.precise and r.type == SCALAR:
                regs[j] = r.replace(precise=False)
        stack = func.stack
        for j, slot in enumerate(stack):
            r = slot.spilled
            if r is not None and r.precise and r.type == SCALAR and slot.types[7] == STACK_SPILL:
                stack[j] = Slot(slot.types, r.replace(precise=False))


def propagate_precision(v, old, cur) -> bool:
    """Make precise along ``cur``'s path what is precise in the equivalent explored ``old``."""
    bt = Backtrack(cur.curframe)
    log = v.log
    level2 = log.level2
    for fr in range(old.curframe, -1, -1):
        func = old.frames[fr]
        first = True
        out = []
        for i in range(10):
            r = func.regs[i]
            if r.type != SCALAR or not r.precise:
                continue
            out.append(f"frame {fr}: propagating r{i}" if first else f",r{i}")
            bt.regs[fr] |= 1 << i
            first = False
        for i, slot in enumerate(func.stack):
            if slot.types[7] != STACK_SPILL:
                continue
            r = slot.spilled
            if r is None or r.type != SCALAR or not r.precise:
                continue
            off = (-i - 1) * 8
            out.append(f"frame {fr}: propagating fp{off}" if first else f",fp{off}")
            bt.stack[fr] |= 1 << i
            first = False
        if level2 and not first:
            log.write("".join(out) + "\n")
    return mark_chain_precision_from(v, cur, -1, bt)
