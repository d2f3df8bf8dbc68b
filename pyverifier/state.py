"""Verifier states: frames (registers + stack) and the state of one path.

A ``FuncState`` holds 11 registers and the stack slots of one frame; a
``VerifierState`` holds the frames of a path plus what the kernel keeps per
path (reference ids, speculative flag, the parent checkpoint, branch count).
Copying a state copies the two lists of each frame; the ``Reg`` and ``Slot``
objects in them are immutable and shared, so a copy is cheap and writes
never leak between states.
"""
from __future__ import annotations

from typing import Any

from .regs import NOT_INIT_REG, PTR_TO_CTX, PTR_TO_STACK, Reg, fmt_reg, pointer
from .stack import EMPTY_SLOT, STACK_ITER, STACK_SPILL, Slot

MAX_BPF_REG = 11


class FuncState:
    __slots__ = ("regs", "stack", "frameno", "subprogno", "callsite", "in_callback_fn", "callback_depth",
                 "callback_ret")

    def __init__(self, regs: list[Reg], stack: list[Slot], frameno: int = 0, subprogno: int = 0,
                 callsite: int = -1):
        self.regs = regs
        self.stack = stack
        self.frameno = frameno
        self.subprogno = subprogno
        self.callsite = callsite
        self.in_callback_fn = False  # a callback's frame (bpf_loop, for_each_map_elem): exits back to the call
        self.callback_depth = 0  # callbacks of the call in this frame queued on the current path
        self.callback_ret = (0, 1)  # the range a callback must return

    def copy(self) -> "FuncState":
        f = FuncState(self.regs[:], self.stack[:], self.frameno, self.subprogno, self.callsite)
        if self.in_callback_fn:
            f.in_callback_fn = True
            f.callback_ret = self.callback_ret
        f.callback_depth = self.callback_depth
        return f

    @property
    def allocated_stack(self) -> int:
        return len(self.stack) * 8

    def grow_stack(self, size: int) -> None:
        n = (size + 7) // 8
        if n > len(self.stack):
            self.stack.extend([EMPTY_SLOT] * (n - len(self.stack)))


class VerifierState:
    __slots__ = ("frames", "curframe", "refs", "speculative", "parent", "branches", "insn_idx", "last_insn_idx",
                 "jmp_history", "first_insn_idx", "cleaned", "equal_state", "may_goto_depth", "sl", "dfs_depth",
                 "callback_unroll_depth", "active_rcu_locks", "active_preempt_locks")

    def __init__(self, frames: list[FuncState], curframe: int = 0):
        self.frames = frames
        self.curframe = curframe
        self.refs: tuple[int, ...] = ()
        self.speculative = False
        self.parent: VerifierState | None = None
        self.branches = 1
        self.insn_idx = 0
        self.last_insn_idx = -1
        self.jmp_history: list[tuple[int, int, int, int]] = []  # (idx, prev_idx, flags, linked_regs)
        self.first_insn_idx = 0
        self.cleaned = False
        self.equal_state: VerifierState | None = None  # back-edge states: the state they matched
        self.may_goto_depth = 0
        self.callback_unroll_depth = 0
        self.active_rcu_locks = 0  # inside bpf_rcu_read_lock (pyverifier.kfuncs)
        self.active_preempt_locks = 0  # bpf_preempt_disable depth
        self.dfs_depth = 0
        self.sl = None  # the explored-state list entry (pyverifier.prune) holding this checkpoint

    def copy(self) -> "VerifierState":
        st = VerifierState([f.copy() for f in self.frames], self.curframe)
        st.refs = self.refs
        st.speculative = self.speculative
        st.parent = self.parent
        st.branches = 1
        st.insn_idx = self.insn_idx
        st.last_insn_idx = self.last_insn_idx
        st.jmp_history = self.jmp_history[:]
        st.first_insn_idx = self.first_insn_idx
        st.may_goto_depth = self.may_goto_depth
        st.callback_unroll_depth = self.callback_unroll_depth
        st.active_rcu_locks = self.active_rcu_locks
        st.active_preempt_locks = self.active_preempt_locks
        st.dfs_depth = self.dfs_depth
        return st

    @property
    def cur(self) -> FuncState:
        return self.frames[self.curframe]


_CTX_REG = pointer(PTR_TO_CTX)
_FP_REG = pointer(PTR_TO_STACK)


def initial_state(ctx_reg: Any = None) -> VerifierState:
    regs = [NOT_INIT_REG] * MAX_BPF_REG
    regs[1] = ctx_reg if ctx_reg is not None else _CTX_REG  # Regs never change: shared
    regs[10] = _FP_REG
    return VerifierState([FuncState(regs, [])])


_FP_NAMES = tuple(f" fp{-(spi + 1) * 8}=" for spi in range(64))
_REG_NAMES = tuple(f" R{i}=" for i in range(MAX_BPF_REG))
# the set bits of every register mask, lowest first
_MASK_BITS = tuple(tuple(i for i in range(MAX_BPF_REG) if m >> i & 1) for m in range(1 << MAX_BPF_REG))


def format_regs(regs: list, mask: int, fr: int) -> str:
    """The `` R<n>=...`` texts of the registers of ``mask`` (r0..r10) that are initialised, in a
    frame ``fr``."""
    out = ""
    for i in _MASK_BITS[mask]:
        r = regs[i]
        if r.type:
            txt = r.txt  # fmt_reg's cached text, read here without the call when it applies
            if txt is None or (r.type == PTR_TO_STACK and r.frameno != fr):
                txt = fmt_reg(r, fr)
            out += _REG_NAMES[i] + txt
    return out


def format_frame(f: FuncState, print_all: bool, scratched_regs: int, scratched_stack: int) -> str:
    """The log's state text of one frame (the kernel's print_verifier_state, without refs):
    every register and slot, or only the scratched ones."""
    fr = f.frameno
    out = f" frame{fr}:" if fr else ""
    regs = f.regs
    if print_all:
        m = 0x7FF
        scratched_stack = -1
    else:
        m = scratched_regs & 0x7FF
    out += format_regs(regs, m, fr)
    if scratched_stack:
        stack = f.stack
        ss = scratched_stack & ((1 << len(stack)) - 1)
        while ss:  # the scratched slots that exist, lowest first
            low = ss & -ss
            ss ^= low
            spi = low.bit_length() - 1
            slot = stack[spi]
            t7 = slot.types[7]
            if t7 == STACK_ITER:
                if slot.spilled is not None:
                    from .iters import slot_text

                    out += (_FP_NAMES[spi] if spi < 64 else f" fp{-(spi + 1) * 8}=") + slot_text(slot.spilled)
                continue
            txt = slot.txt  # slot.text()'s cached text, read without the call when it is made
            if txt is None:
                txt = slot.text()
            if txt or t7 == STACK_SPILL:
                name = _FP_NAMES[spi] if spi < 64 else f" fp{-(spi + 1) * 8}="
                if t7 == STACK_SPILL:
                    r = slot.spilled
                    rtxt = r.txt  # as in format_regs
                    if rtxt is None or (r.type == PTR_TO_STACK and r.frameno != fr):
                        rtxt = fmt_reg(r, fr)
                    out += name + txt + rtxt
                else:
                    out += name + txt
    return out
