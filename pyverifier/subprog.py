"""bpf-to-bpf calls: entering and leaving subprogram frames, and the combined stack limit.

``check_func_call`` is the kernel's __check_func_call for a static subprogram
(BPF_PSEUDO_CALL): a new frame whose R1-R5 are the caller's, R10 its own frame
pointer, the caller's R0-R5 cleared, and the ``caller:``/``callee:`` lines.
``prepare_func_exit`` returns R0 to the caller at the instruction after the
call (``returning from callee:``/``to caller at N:``). ``check_max_stack_depth``
walks the static call graph after exploration like the kernel does, adding the
stack of each frame rounded up to 16 bytes (x86-64 JIT).
"""
from __future__ import annotations

from . import regs as R
from .state import FuncState

EINVAL = 22
EACCES = 13
E2BIG = 7
MAX_CALL_FRAMES = 8
MAX_BPF_STACK = 512
PRIV_STACK_MIN_SIZE = 64

_PRIV_STACK_TYPES = None


def _priv_stack_types():
    global _PRIV_STACK_TYPES
    if _PRIV_STACK_TYPES is None:
        from . import uapi

        T = uapi.PROG_TYPES
        _PRIV_STACK_TYPES = frozenset({T["kprobe"], T["tracepoint"], T["perf_event"], T["raw_tracepoint"]})
    return _PRIV_STACK_TYPES


def _frame_view(st, fr: int):
    from .precision import _FrameView

    return st if fr == st.curframe else _FrameView(st, fr)


def check_func_call(v, ins) -> None:
    st = v.state
    target = v.insn_idx + ins.imm + 1
    starts = v.cfg.subprog_starts
    if target not in starts:
        v.err(f"verifier bug: target of func call at insn {target} is not a program", 14)
    sub = starts.index(target)
    v.entered_subprogs.add(sub)
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        v.err(f"the call stack of {st.curframe + 2} frames is too deep", E2BIG)
    caller = st.cur
    frameno = st.curframe + 1
    regs = [R.NOT_INIT_REG] * 11
    regs[10] = R.pointer(R.PTR_TO_STACK, frameno=frameno)
    for i in range(1, 6):
        regs[i] = caller.regs[i]
    st.frames.append(FuncState(regs, [], frameno=frameno, subprogno=sub, callsite=v.insn_idx))
    st.curframe = frameno
    for i in range(6):
        caller.regs[i] = R.NOT_INIT_REG
        v.scratched_regs |= 1 << i
    v.insn_idx = target - 1  # the loop steps to the callee's first instruction
    v.live.reset_callchain()
    if v.log.level1:
        v.log.write("caller:\n")
        v.print_state(_frame_view(st, frameno - 1), True)
        v.log.write("callee:\n")
        v.print_state(st, True)
    v.scratch_all()


def prepare_func_exit(v) -> bool:
    """BPF_EXIT in a subprogram: back to the caller; returns False (the path goes on)."""
    v.live.update()
    st = v.state
    callee = st.cur
    r0 = callee.regs[0]
    if r0.type == R.PTR_TO_STACK:
        v.err("cannot return stack pointer to the caller", EINVAL)
    caller = st.frames[st.curframe - 1]
    caller.regs[0] = r0
    v.insn_idx = callee.callsite + 1
    if v.log.level1:
        v.log.write("returning from callee:\n")
        v.print_state(st, True)
        v.log.write(f"to caller at {v.insn_idx}:\n")
        v.print_state(_frame_view(st, st.curframe - 1), True)
    st.frames.pop()
    st.curframe -= 1
    v.returned_from_callee = True
    return False


def _round_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def check_max_stack_depth(v) -> None:
    """Static walk of the call graph from the main program (check_max_stack_depth_subprog)."""
    from . import opcodes as op

    starts = v.cfg.subprog_starts
    if len(starts) < 2:
        return
    if v.log.level1 and not v.log.level2:
        v.log.reset(0)  # do_check_common forgets a successful exploration at level 1 before this check
    insns = v.insns
    depths = v.subprog_stack_depth
    bounds = starts + [len(insns)]
    tail = [any(insns[j].code == op.CALL and insns[j].src == 0 and insns[j].imm == 12
                for j in range(bounds[k], bounds[k + 1])) for k in range(len(starts))]
    # tracing programs may run subprograms with 64 bytes of stack or more on a private stack (x86-64 JIT)
    priv = v.prog.prog_type in _priv_stack_types() and not any(tail)
    adaptive = [False] * len(starts)
    ret_insn = [0] * MAX_CALL_FRAMES
    ret_prog = [0] * MAX_CALL_FRAMES
    idx = 0
    i = 0
    frame = 0
    depth = 0
    enter = True
    while True:
        if enter:
            if idx and tail[idx] and depth >= 256:
                v.err(f"tail_calls are not allowed when call stack of previous frames is {depth} bytes. Too large")
            sub_depth = _round_up(depths[idx], 16)
            if priv and sub_depth >= PRIV_STACK_MIN_SIZE:
                adaptive[idx] = True
            if adaptive[idx]:
                if sub_depth > MAX_BPF_STACK:
                    v.err(f"stack size of subprog {idx} is {sub_depth}. Too large")
            else:
                depth += sub_depth
                if depth > MAX_BPF_STACK:
                    v.err(f"combined stack size of {frame + 1} calls is {depth}. Too large")
            enter = False
        end = bounds[idx + 1]
        called = False
        while i < end:
            ins = insns[i]
            is_call = ins.code == op.CALL and ins.src == op.BPF_PSEUDO_CALL
            is_func = ins.code == op.LD_IMM64 and ins.src == op.BPF_PSEUDO_FUNC
            if not (is_call or is_func):
                i += 1
                continue
            ret_insn[frame] = i + 1
            ret_prog[frame] = idx
            nxt = i + ins.imm + 1
            idx = starts.index(nxt)
            i = nxt
            frame += 1
            if frame >= MAX_CALL_FRAMES:
                v.err(f"the call stack of {frame} frames is too deep !", E2BIG)
            called = True
            break
        if called:
            enter = True
            continue
        if frame == 0:
            return
        if not adaptive[idx]:
            depth -= _round_up(depths[idx], 16)
        frame -= 1
        i = ret_insn[frame]
        idx = ret_prog[frame]
