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

from . import opcodes as op
from . import regs as R
from .precision import frame_view
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


def _setup_func_entry(v, st, sub: int) -> FuncState:
    """A new frame for subprogram ``sub`` called from the current instruction, on top of ``st``:
    every register uninitialized but its own frame pointer."""
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        v.err(f"the call stack of {st.curframe + 2} frames is too deep", E2BIG)
    frameno = st.curframe + 1
    regs = [R.NOT_INIT_REG] * 11
    regs[10] = R.pointer(R.PTR_TO_STACK, frameno=frameno)
    callee = FuncState(regs, [], frameno=frameno, subprogno=sub, callsite=v.insn_idx)
    st.frames.append(callee)
    st.curframe = frameno
    return callee


def check_func_call(v, ins) -> None:
    st = v.state
    target = v.insn_idx + ins.imm + 1
    starts = v.cfg.subprog_starts
    if target not in starts:
        v.err(f"verifier bug: target of func call at insn {target} is not a program", 14)
    sub = starts.index(target)
    v.entered_subprogs.add(sub)
    if v.func_btf is not None:
        from .progbtf import check_subprog_call, is_global

        err = check_subprog_call(v, sub, st.cur.regs)
        if is_global(v, sub):
            _global_call(v, st, sub, err)
            return
    caller = st.cur
    callee = _setup_func_entry(v, st, sub)
    frameno = callee.frameno
    callee.regs[1:6] = caller.regs[1:6]
    v.clear_caller_saved(caller.regs)
    v.insn_idx = target - 1  # the loop steps to the callee's first instruction
    v.live.reset_callchain()
    if v.log.level1:
        v.log.write("caller:\n")
        v.print_state(frame_view(st, frameno - 1), True)
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
    if callee.in_callback_fn:
        return _callback_exit(v, st, callee, r0)
    caller = st.frames[st.curframe - 1]
    caller.regs[0] = r0
    _return_to_caller(v, st, callee.callsite + 1)
    v.returned_from_callee = True
    return False


def leave_subprog_early(v, r0) -> None:
    """An instruction that may end its subprogram at once (a tail call, a failed LD_ABS/LD_IND):
    one path goes on after it, the other returns ``r0`` to the caller right away."""
    v.push_stack(v.insn_idx + 1, v.insn_idx, v.state.copy())
    v.state.cur.regs[0] = r0
    v.scratched_regs |= 1
    prepare_func_exit(v)
    v.returned_from_callee = False  # the log goes on with the caller's next instruction, no "from" line
    v.insn_idx -= 1  # the loop steps past the instruction


def _return_to_caller(v, st, insn_idx: int) -> None:
    """Leave the current frame for the caller's, at ``insn_idx`` (the lines level 1 prints)."""
    v.insn_idx = insn_idx
    if v.log.level1:
        v.log.write("returning from callee:\n")
        v.print_state(st, True)
        v.log.write(f"to caller at {insn_idx}:\n")
        v.print_state(frame_view(st, st.curframe - 1), True)
    st.frames.pop()
    st.curframe -= 1


# ---- global functions ---------------------------------------------------------
def _global_call(v, st, sub: int, args_err: int) -> None:
    """A call of a global function: only its arguments are checked here; R0 comes back unknown.
    The function itself is verified once, on its own, after the main program."""
    name = v.func_btf[sub].name
    if st.refs and getattr(v, "lock_held", None) and v.lock_held(st):
        v.err("global function calls are not allowed while holding a lock,\nuse static function instead", EINVAL)
    if args_err:
        v.err(f"Caller passes invalid args into func#{sub} ('{name}')", args_err)
    if v.log.level1:
        v.log.write(f"Func#{sub} ('{name}') is global and assumed valid.\n")
    if _changes_pkt_data(v, sub, set()):
        from .packet import clear_all_pkt_pointers

        clear_all_pkt_pointers(st)
    v.global_called.add(sub)
    regs = st.cur.regs
    v.clear_caller_saved(regs)
    regs[0] = R.scalar_unknown()


def _changes_pkt_data(v, sub: int, seen: set) -> bool:
    """Whether subprogram ``sub`` (or one it calls) calls a helper that changes packet data."""
    from . import helpers as H
    from . import opcodes as op

    if sub in seen:
        return False
    seen.add(sub)
    starts = v.cfg.subprog_starts
    end = starts[sub + 1] if sub + 1 < len(starts) else len(v.insns)
    for i in range(starts[sub], end):
        ins = v.insns[i]
        if ins.code != op.CALL:
            continue
        if ins.src == 0 and (ins.imm in H.CHANGES_PKT_DATA or ins.imm == 12):  # a tail call may return
            return True
        if ins.src == op.BPF_PSEUDO_CALL and _changes_pkt_data(v, starts.index(i + ins.imm + 1), seen):
            return True
    return False


def check_global_subprogs(v) -> None:
    """After the main program: verify each global function some path called, on its own, with the
    arguments its BTF prototype promises (repeated while newly verified ones call others)."""
    from .progbtf import ARG_CTX, ArgMem, ArgTrusted, is_global
    from .state import VerifierState

    funcs = v.func_btf
    if funcs is None:
        return
    starts = v.cfg.subprog_starts
    while True:
        new = 0
        for i in range(1, len(starts)):
            if not is_global(v, i) or i not in v.global_called or i in v.global_verified:
                continue
            f = funcs[i]
            if v.log.level1:
                v.log.write(f"Validating {f.name}() func#{i}...\n")
            if f.args is None:
                v.err(f.problem or f"global function {f.name}() has a prototype the kernel cannot use", EINVAL)
            regs = [R.NOT_INIT_REG] * 11
            regs[10] = R.pointer(R.PTR_TO_STACK)
            for j, kind in enumerate(f.args):
                if isinstance(kind, ArgTrusted):  # a trusted pointer to a kernel struct, with an id
                    v.id_gen += 1
                    t = R.PTR_TO_BTF_ID | R.PTR_TRUSTED | (R.PTR_MAYBE_NULL if kind.nullable else 0)
                    regs[j + 1] = R.pointer(t, mem_size=kind.tid, id=v.id_gen)
                elif isinstance(kind, ArgMem):  # memory of the prototype's size, maybe NULL (then with an id)
                    if kind.nullable:
                        v.id_gen += 1
                        regs[j + 1] = R.pointer(R.PTR_TO_MEM | R.PTR_MAYBE_NULL, mem_size=kind.size, id=v.id_gen)
                    else:
                        regs[j + 1] = R.pointer(R.PTR_TO_MEM, mem_size=kind.size)
                else:
                    regs[j + 1] = R.pointer(R.PTR_TO_CTX) if kind == ARG_CTX else R.scalar_unknown()
            st = VerifierState([FuncState(regs, [], frameno=0, subprogno=i, callsite=-1)])
            st.first_insn_idx = starts[i]
            st.last_insn_idx = -1
            v.state = st
            v.entered_subprogs.add(i)
            v.live.reset_callchain()
            if v.linfo is not None:
                v.linfo.prev = -1  # each verification pass prints its first source line again
            v.scratch_all()
            v.do_check(starts[i])
            if v.log.level1:
                v.log.write(f"Func#{i} ('{f.name}') is safe for any args that match its prototype\n")
            v.global_verified.add(i)
            new += 1
        if not new:
            return


# ---- callbacks (bpf_loop, bpf_for_each_map_elem) -------------------------------
def push_callback_call(v, subprog: int, set_state) -> None:
    """Queue the callback's entry as a path of its own, one frame deeper, and go on after the call.

    ``set_state(caller, callee)`` fills the callee's argument registers. The queued
    path's caller frame counts one more pending callback (``callback_depth``); the
    current path's count starts again at 0.
    """
    st = v.state
    caller = st.cur
    if v.func_btf is not None:
        from .progbtf import check_subprog_call

        check_subprog_call(v, subprog, caller.regs)
    v.entered_subprogs.add(subprog)
    cb = st.copy()
    v.push_stack(v.cfg.subprog_starts[subprog], v.insn_idx, cb)
    callee = _setup_func_entry(v, cb, subprog)
    frameno = callee.frameno
    callee.in_callback_fn = True
    callee.callback_ret = (0, 1)
    set_state(v, cb.frames[frameno - 1], callee)
    cb.callback_unroll_depth += 1
    cb.frames[frameno - 1].callback_depth += 1
    caller.callback_depth = 0
    v.scratch_all()  # the kernel's log shows every register and slot scratched after this call


def set_loop_callback_state(v, caller, callee) -> None:
    """bpf_loop's callback(index, ctx): R1 an unknown index, R2 the caller's R3."""
    callee.regs[1] = R.scalar_unknown()
    callee.regs[2] = caller.regs[3]


def set_map_elem_callback_state(v, caller, callee) -> None:
    """bpf_for_each_map_elem's callback(map, key, value, ctx)."""
    m = caller.regs[1].map
    callee.regs[1] = R.pointer(R.CONST_PTR_TO_MAP, map=m)
    callee.regs[2] = R.pointer(R.PTR_TO_MAP_KEY, map=m)
    callee.regs[3] = R.pointer(R.PTR_TO_MAP_VALUE, map=m)
    callee.regs[4] = caller.regs[3]


def _callback_exit(v, st, callee, r0) -> bool:
    """A callback's exit: R0 in its return range, then back to the helper call, which runs again."""
    from . import precision
    from .prune import find_prev_entry, widen_imprecise_scalars

    if r0.type != R.SCALAR:
        v.err("R0 not a scalar value", EACCES)
    precision.mark_chain_precision(v, 0)
    r0 = callee.regs[0]
    lo, hi = callee.callback_ret
    s = r0.s
    if not (lo <= s.smin and s.smax <= hi):
        from .retval import invalid_scalar_msg

        v.err(invalid_scalar_msg("At callback return", "R0", r0, lo, hi), EINVAL)
    _return_to_caller(v, st, callee.callsite)  # the helper call runs again
    prev = find_prev_entry(v, st, v.insn_idx)
    if prev is not None:
        widen_imprecise_scalars(v, prev, st)
    v.returned_from_callee = True
    return False


def add_loop_inline_stack(v) -> None:
    """After an accepted verification: a subprogram with an inlinable bpf_loop gets 3 stack slots
    (after rounding its depth up to 8) for the loop's counter, bound and context."""
    depths = v.subprog_stack_depth
    starts = v.cfg.subprog_starts
    done = set()
    for idx, (fit, _sub) in sorted(v.loop_inline.items()):
        if not fit:
            continue
        k = max(j for j, s in enumerate(starts) if s <= idx)
        if k in done:
            continue
        done.add(k)
        d = depths[k]
        depths[k] = d + 24 + (_round_up(d, 8) - d)
    if depths and done and 0 in done:
        v.stack_depth = depths[0]


def _round_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def check_max_stack_depth(v) -> None:
    """Static walk of the call graph from the main program (check_max_stack_depth_subprog)."""
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
