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

from .regs import NOT_INIT_REG, PTR_TO_CTX, PTR_TO_STACK, Reg, pointer
from .stack import EMPTY_SLOT, Slot

MAX_BPF_REG = 11


class FuncState:
    __slots__ = ("regs", "stack", "frameno", "subprogno", "callsite")

    def __init__(self, regs: list[Reg], stack: list[Slot], frameno: int = 0, subprogno: int = 0,
                 callsite: int = -1):
        self.regs = regs
        self.stack = stack
        self.frameno = frameno
        self.subprogno = subprogno
        self.callsite = callsite

    def copy(self) -> "FuncState":
        return FuncState(self.regs[:], self.stack[:], self.frameno, self.subprogno, self.callsite)

    @property
    def allocated_stack(self) -> int:
        return len(self.stack) * 8

    def grow_stack(self, size: int) -> None:
        n = (size + 7) // 8
        if n > len(self.stack):
            self.stack.extend([EMPTY_SLOT] * (n - len(self.stack)))


class VerifierState:
    __slots__ = ("frames", "curframe", "refs", "speculative", "parent", "branches", "insn_idx", "last_insn_idx",
                 "jmp_history", "first_insn_idx", "cleaned", "equal_state", "may_goto_depth", "sl", "dfs_depth")

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
        st.dfs_depth = self.dfs_depth
        return st

    @property
    def cur(self) -> FuncState:
        return self.frames[self.curframe]


def initial_state(ctx_reg: Any = None) -> VerifierState:
    regs = [NOT_INIT_REG] * MAX_BPF_REG
    regs[1] = ctx_reg if ctx_reg is not None else pointer(PTR_TO_CTX)
    regs[10] = pointer(PTR_TO_STACK)
    return VerifierState([FuncState(regs, [])])
