"""Control-flow checks done before the exploration: the 6.18 kernel's order.

1. subprogram discovery (``func#N @start`` lines at log level 2),
2. jump ranges and the last instruction of each subprogram,
3. ld_imm64 pairs, map references and the opcode table,
4. the kernel's check_cfg: prune and jump points (read off each instruction,
   ``mark_points``), reachability and jumps into the middle of an ld_imm64
   (the post-order walk decides that nothing is wrong; the kernel's own
   depth-first walk, ``check_cfg``, runs only when something is, for its error),
5. post order, strongly connected components and live registers (the
   ``Live regs before insn:`` block at log level 2).

Everything here is computed once per program; the results (``Cfg``) are
read-only data for the exploration loop.
"""
from __future__ import annotations

from typing import Callable

from . import opcodes as op
from .caches import keep
from .insn import Insn

EINVAL = 22
EBADF = 9

_FALLTHROUGH = 1
_BRANCH = 2
_DISCOVERED = 0x10
_EXPLORED = 0x20

CALLER_SAVED = 0x3F  # r0..r5


class CfgError(Exception):
    """The program fails a pre-exploration check: ``msg`` is the kernel's line."""

    def __init__(self, msg: str, errno: int = EINVAL, subprog_cnt: int = 0, newline: bool = True):
        super().__init__(msg)
        self.msg = msg
        self.errno = errno
        self.subprog_cnt = subprog_cnt  # subprograms known when the check failed (the stats line)
        self.newline = newline  # False: the kernel prints the message without one (before any subprogram)


class NotModelled(Exception):
    """A feature pyverifier does not model yet."""


_NONE_YET: tuple = ()


class Cfg:
    """What the pre-exploration passes found (read-only during the exploration)."""

    __slots__ = ("insn_cnt", "subprog_starts", "prune_points", "jmp_points", "force_checkpoints", "calls_callback",
                 "iter_next_calls", "postorder", "postorder_starts", "scc", "live_regs_before", "succ", "visited",
                 "has_backedge", "ld_imm64_at", "has_scc")

    def __init__(self, insn_cnt: int, subprog_starts: list[int]):
        self.insn_cnt = insn_cnt
        self.subprog_starts = subprog_starts
        self.prune_points: set[int] = set()
        self.jmp_points: set[int] = set()
        self.force_checkpoints: set[int] = set()
        self.calls_callback: set[int] = set()  # helper calls that run a callback
        self.iter_next_calls: set[int] = set()  # kfunc calls of an iterator's _next
        # the passes' results, each a list its pass makes (the empty tuple until then)
        self.postorder: list[int] = _NONE_YET
        self.postorder_starts: list[int] = _NONE_YET  # per subprogram, plus the end
        self.scc: list[int] = _NONE_YET
        self.live_regs_before: list[int] = _NONE_YET
        self.succ: list[tuple[int, ...]] = _NONE_YET  # every instruction's successors (fall-through first)
        self.visited: list[int] = _NONE_YET  # compute_postorder reached the instruction (non-zero)
        self.has_backedge = False  # an edge may close a loop (see mark_points)
        self.ld_imm64_at: list[int] = []  # the ld_imm64 instructions (mark_points)
        self.has_scc = False  # some instruction is in a loop (scc has a number that is not 0)


def is_ldimm64(ins: Insn) -> bool:
    return ins.code == op.LD_IMM64


def jmp_offset(ins: Insn) -> int:
    return ins.imm if ins.code == op.GOTOL else ins.off


def _can_jump_fall(code: int) -> tuple[bool, bool]:
    cls = code & 7
    if cls not in (op.BPF_JMP, op.BPF_JMP32):
        return False, True
    o = code & 0xF0
    if o == op.BPF_EXIT:
        return False, False
    if o == op.BPF_JA:
        return True, False
    if o == op.BPF_CALL:
        return False, True
    return True, True


_JF = tuple(_can_jump_fall(c) for c in range(256))


def _count_subprogs(insns: list[Insn]) -> int:
    """How many subprograms the program's calls and function pointers name (main included)."""
    starts = {0}
    for i, ins in enumerate(insns):
        if (ins.code == op.CALL and ins.src == op.BPF_PSEUDO_CALL) or \
                (ins.code == op.LD_IMM64 and ins.src == op.BPF_PSEUDO_FUNC):
            starts.add(i + ins.imm + 1)
    return len(starts)


def _find_subprogs(insns: list[Insn], log) -> list[int]:
    """The subprogram starts (``func#`` lines at level 2): the first half of the kernel's check_subprogs."""
    n = len(insns)
    starts = [0]
    ld_imm64, call = op.LD_IMM64, op.CALL
    if not any(ins.code == ld_imm64 or ins.code == call for ins in insns):
        if log.level2:
            log.write("func#0 @0\n")
        return starts
    for i, ins in enumerate(insns):
        code = ins.code
        if code != ld_imm64 and code != call:
            continue
        pseudo_func = ins.code == op.LD_IMM64 and ins.src == op.BPF_PSEUDO_FUNC
        pseudo_call = ins.code == op.CALL and ins.src in (op.BPF_PSEUDO_CALL, op.BPF_PSEUDO_KFUNC_CALL)
        if pseudo_func or pseudo_call:
            if ins.src == op.BPF_PSEUDO_KFUNC_CALL and not pseudo_func:
                from .kfuncs import not_modelled_reason

                why = not_modelled_reason(ins)
                if why:
                    raise NotModelled(why)
                continue  # a kfunc call names a kernel function, not a subprogram
            tgt = i + ins.imm + 1
            if tgt < 0 or tgt >= n:
                raise CfgError("call to invalid destination", subprog_cnt=len(set(starts)))
            starts.append(tgt)
    starts = sorted(set(starts))
    if log.level2:
        for k, s in enumerate(starts):
            log.write(f"func#{k} @{s}\n")
    return starts


def _check_jumps(insns: list[Insn], starts: list[int]) -> list[tuple[int, ...]]:
    """Jump ranges and the last instruction of every subprogram (the second half of the kernel's check_subprogs);
    returns every instruction's successors, made in the same pass."""
    n = len(insns)
    bounds = starts + [n]
    nsub = len(starts)
    cur = 0
    start, end = bounds[0], bounds[1]
    last = end - 1
    jf = _JF
    gotol, ld_imm64 = op.GOTOL, op.LD_IMM64
    ends = (op.EXIT, op.GOTOL, op.JA)
    out: list[tuple[int, ...]] = []
    append = out.append
    for i, ins in enumerate(insns):
        code = ins.code
        can_jump, can_fall = jf[code]
        if can_jump:  # a jump of class JMP/JMP32 but exit and call
            tgt = i + (ins.imm if code == gotol else ins.off) + 1
            if tgt < start or tgt >= end:
                raise CfgError(f"jump out of range from insn {i} to {tgt}")
            append((i + 1, tgt) if can_fall else (tgt,))
        elif can_fall:
            append((i + 2,) if code == ld_imm64 else (i + 1,))
        else:
            append(())
        if i == last:
            if code not in ends:
                raise CfgError("last insn is not an exit or jmp")
            cur += 1
            start = end
            if cur < nsub:
                end = bounds[cur + 1]
                last = end - 1
    return out


# opcodes check_ldimm64_and_opcodes passes on sight: valid ones but ld_imm64 and the LDX class
_PLAIN_OPCODE = tuple(c in op.VALID_OPCODES and c != op.LD_IMM64 and c & 7 != op.BPF_LDX for c in range(256))


def check_ldimm64_and_opcodes(insns: list[Insn], nmaps: int, maps=None, map_used=None) -> None:
    """ld_imm64 pairs, map references, reserved LDX fields and the opcode table.

    ``map_used(map)`` checks the map of a reference against the program (None or (message, errno)).
    """
    n = len(insns)
    i = 0
    ldx, mem, memsx, ld_imm64 = op.BPF_LDX, op.BPF_MEM, op.BPF_MEMSX, op.LD_IMM64
    valid = op.VALID_OPCODES
    plain = _PLAIN_OPCODE
    while i < n:
        ins = insns[i]
        code = ins.code
        if plain[code]:  # a valid opcode with nothing more to check here
            i += 1
            continue
        if code & 7 == ldx and ((code & 0xE0) not in (mem, memsx) or ins.imm != 0):
            raise CfgError("BPF_LDX uses reserved fields")
        if code == ld_imm64:
            if i == n - 1:
                raise CfgError("invalid bpf_ld_imm64 insn")
            nx = insns[i + 1]
            if nx.code != 0 or nx.dst != 0 or nx.src != 0 or nx.off != 0:
                raise CfgError("invalid bpf_ld_imm64 insn")
            src = ins.src
            if src == 0 or src == op.BPF_PSEUDO_FUNC:
                i += 2
                continue
            if src == op.BPF_PSEUDO_BTF_ID:
                raise NotModelled("ld_imm64 of a BTF id (ksym)")
            value_ref = src in (op.BPF_PSEUDO_MAP_VALUE, op.BPF_PSEUDO_MAP_IDX_VALUE)
            if not value_ref and not (src in (op.BPF_PSEUDO_MAP_FD, op.BPF_PSEUDO_MAP_IDX) and nx.imm == 0):
                raise CfgError("unrecognized bpf_ld_imm64 insn")
            if src in (op.BPF_PSEUDO_MAP_IDX, op.BPF_PSEUDO_MAP_IDX_VALUE) and not 0 <= ins.imm < nmaps:
                # the loader passes fd_array only with maps, holding exactly their fds
                raise NotModelled("fd_array index outside the program's maps")
            if not 0 <= ins.imm < nmaps:
                raise CfgError(f"fd {ins.imm} is not pointing to valid bpf_map", EBADF)
            if map_used is not None and maps is not None:
                bad = map_used(maps[ins.imm])
                if bad is not None:
                    raise CfgError(*bad)
            if value_ref:
                from .mapvalue import check_direct_ref

                if maps is None:
                    raise NotModelled("direct map value references without map specs")
                bad = check_direct_ref(maps[ins.imm], nx.imm)
                if bad is not None:
                    raise CfgError(*bad)
            i += 2
            continue
        if code not in valid:
            raise CfgError(f"unknown opcode {code:02x}")
        i += 1


# helpers that call a callback synchronously (for_each_map_elem, find_vma, loop, user_ringbuf_drain)
SYNC_CALLBACK_HELPERS = frozenset({164, 180, 181, 209})
_TIMER_SET_CALLBACK = 170


def check_cfg(insns: list[Insn], cfg: Cfg) -> None:
    """The kernel's depth-first walk of the flow graph (privileged: loops allowed), for its
    errors: an unreachable instruction, a jump into the middle of an ld_imm64. The prune, jump
    and forced checkpoints it marks on the way are ``mark_points``'s; ``analyse`` runs this walk
    only when the post-order walk found something unreachable."""
    n = len(insns)
    state = [0] * n
    stack = [0]
    state[0] = _DISCOVERED

    def push(t: int, w: int, e: int) -> int:
        # returns 1 keep exploring, 0 done
        if e == _FALLTHROUGH and state[t] >= (_DISCOVERED | _FALLTHROUGH):
            return 0
        if e == _BRANCH and state[t] >= (_DISCOVERED | _BRANCH):
            return 0
        if w < 0 or w >= n:
            raise CfgError(f"jump out of range from insn {t} to {w}")
        if state[w] == 0:
            state[t] = _DISCOVERED | e
            state[w] = _DISCOVERED
            stack.append(w)
            return 1
        if (state[w] & 0xF0) == _DISCOVERED:
            cfg.has_backedge = True
            return 0  # back-edge: allowed for privileged programs
        if state[w] == _EXPLORED:
            state[t] = _DISCOVERED | e
            return 0
        raise CfgError("verifier bug: insn state internal bug")

    jmp, jmp32, ld_imm64, pseudo_func = op.BPF_JMP, op.BPF_JMP32, op.LD_IMM64, op.BPF_PSEUDO_FUNC
    while stack:
        t = stack[-1]
        ins = insns[t]
        code = ins.code
        cls = code & 7
        if code == ld_imm64 and ins.src == pseudo_func:
            # a callback reference: the callee entry is a branch, as for a call
            r = push(t, t + 2, _FALLTHROUGH)
            if r == 0:
                r = push(t, t + ins.imm + 1, _BRANCH)
        elif cls != jmp and cls != jmp32:
            r = push(t, t + (2 if code == ld_imm64 else 1), _FALLTHROUGH)
        else:
            o = code & 0xF0
            if o == op.BPF_EXIT:
                r = 0
            elif o == op.BPF_CALL:
                r = push(t, t + 1, _FALLTHROUGH)
                if r == 0 and ins.src == op.BPF_PSEUDO_CALL:
                    # visit_func_call_insn: the callee entry is a branch of the call
                    r = push(t, t + ins.imm + 1, _BRANCH)
            elif o == op.BPF_JA:
                r = push(t, t + jmp_offset(ins) + 1, _FALLTHROUGH)
            else:
                r = push(t, t + 1, _FALLTHROUGH)
                if r == 0:
                    r = push(t, t + ins.off + 1, _BRANCH)
        if r == 0:
            state[t] = _EXPLORED
            stack.pop()
    i = 0
    while i < n:
        if state[i] != _EXPLORED:
            raise CfgError(f"unreachable insn {i}")
        if insns[i].code == ld_imm64:
            if state[i + 1] != 0:
                raise CfgError(f"jump into the middle of ldimm64 insn {i}")
            i += 1
        i += 1


def mark_points(insns: list[Insn], cfg: Cfg) -> list[tuple[int, int]]:
    """The prune, jump and forced checkpoints ``check_cfg`` marks, read off each instruction.

    ``check_cfg``'s walk marks them instruction by instruction, whatever the order of the
    walk: when every instruction is reachable (the program passes the walk) they are these.
    Returns the call and callback edges (source, subprogram start) besides ``cfg.succ``, and
    sets ``cfg.has_backedge`` when some edge goes to an earlier instruction or to itself (a
    loop needs one; the walk's own test is narrower, so this may only run the SCC pass more).
    """
    prune = cfg.prune_points
    jmpp = cfg.jmp_points
    calls: list[tuple[int, int]] = []
    ldimm = cfg.ld_imm64_at
    jmp, jmp32, ld_imm64, pseudo_func = op.BPF_JMP, op.BPF_JMP32, op.LD_IMM64, op.BPF_PSEUDO_FUNC
    back = False
    for t, ins in enumerate(insns):
        code = ins.code
        cls = code & 7
        if cls != jmp and cls != jmp32:
            if code != ld_imm64:
                continue
            ldimm.append(t)
            if ins.src == pseudo_func:  # a callback reference: the callee entry is a branch, as for a call
                prune.add(t + 2)
                jmpp.add(t + 2)
                back |= _mark_callee(cfg, calls, t, t + ins.imm + 1)
            continue
        o = code & 0xF0
        if o == op.BPF_EXIT:
            continue
        if o == op.BPF_CALL:
            if ins.src == 0 and ins.imm in SYNC_CALLBACK_HELPERS:
                cfg.force_checkpoints.add(t)
                cfg.calls_callback.add(t)
                prune.add(t)
                jmpp.add(t)
            elif ins.src == 0 and ins.imm == _TIMER_SET_CALLBACK:
                cfg.calls_callback.add(t)
                prune.add(t)
            elif ins.src == op.BPF_PSEUDO_KFUNC_CALL:
                from .iters import ITER_NUM_NEXT
                from .kfuncs import name_of

                if name_of(ins.imm) == ITER_NUM_NEXT:  # a loop's convergence point
                    cfg.iter_next_calls.add(t)
                    cfg.force_checkpoints.add(t)
                    prune.add(t)
            prune.add(t + 1)
            jmpp.add(t + 1)
            if ins.src == op.BPF_PSEUDO_CALL:
                back |= _mark_callee(cfg, calls, t, t + ins.imm + 1)
            continue
        tgt = t + jmp_offset(ins) + 1
        if tgt <= t:
            back = True
        prune.add(tgt)
        jmpp.add(tgt)
        if o != op.BPF_JA:
            prune.add(t)
            if code == op.MAY_GOTO:
                cfg.force_checkpoints.add(t)
    cfg.has_backedge = back
    return calls


def _mark_callee(cfg: Cfg, calls: list[tuple[int, int]], t: int, tgt: int) -> bool:
    """A call or callback reference at ``t`` to the subprogram at ``tgt``: both are prune points,
    the entry a jump point; returns whether the edge goes back."""
    cfg.prune_points.add(t)
    cfg.prune_points.add(tgt)
    cfg.jmp_points.add(tgt)
    calls.append((t, tgt))
    return tgt <= t


def all_reachable(insns: list[Insn], cfg: Cfg, calls: list[tuple[int, int]]) -> bool:
    """Whether ``check_cfg``'s walk would find every instruction reachable and no jump into an
    ld_imm64 (then it raises nothing): the post-order walk of every subprogram (``visited``)
    covered every instruction but the second halves of ld_imm64, and every subprogram is
    called, from main on, by a call or callback reference."""
    visited = cfg.visited
    n = len(insns)
    ldimm = cfg.ld_imm64_at  # (mark_points)
    # the unvisited instructions must be exactly the second halves of the ld_imm64
    if visited.count(0) != len(ldimm):
        return False
    for i in ldimm:
        if visited[i + 1]:
            return False
    starts = cfg.subprog_starts
    if len(starts) == 1:
        return True
    bounds = starts + [n]
    from bisect import bisect_right

    edges: dict[int, list[int]] = {}
    for src, tgt in calls:
        edges.setdefault(bisect_right(bounds, src) - 1, []).append(starts.index(tgt))
    seen = {0}
    todo = [0]
    while todo:
        for k in edges.get(todo.pop(), ()):
            if k not in seen:
                seen.add(k)
                todo.append(k)
    return len(seen) == len(starts)


def compute_postorder(insns: list[Insn], cfg: Cfg) -> None:
    n = len(insns)
    state = [0] * n
    post: list[int] = []
    emit = post.append
    starts: list[int] = []
    succ = cfg.succ
    # state: 1 pushed, 3 its successors pushed too (a second visit emits it)
    for s in cfg.subprog_starts:
        starts.append(len(post))
        stack = [s]
        push = stack.append
        pop = stack.pop
        state[s] = 1
        while stack:
            top = stack[-1]
            if state[top] == 3:
                emit(top)
                pop()
                continue
            state[top] = 3
            for w in succ[top]:
                if not state[w]:
                    push(w)
                    state[w] = 1
    starts.append(len(post))
    cfg.postorder = post
    cfg.postorder_starts = starts
    cfg.visited = state


def compute_scc(insns: list[Insn], cfg: Cfg) -> None:
    """Tarjan's strongly connected components; only loops get a number (from 1)."""
    n = len(insns)
    if not cfg.has_backedge:
        # check_cfg walked every edge of the flow graph (and the call edges besides) from every
        # reachable instruction without meeting a back-edge: there is no loop, no component
        cfg.scc = [0] * n
        return
    pre = [0] * n
    low = [0] * n
    onstack = [False] * n
    scc = [0] * n
    sstack: list[int] = []
    counter = 1
    next_id = 1
    succ = cfg.succ
    for root in range(n):
        if pre[root]:
            continue
        # skip the second half of ld_imm64: it is never a successor
        if root > 0 and insns[root - 1].code == op.LD_IMM64 and pre[root - 1]:
            continue
        work = [(root, iter(succ[root]))]
        pre[root] = low[root] = counter
        counter += 1
        sstack.append(root)
        onstack[root] = True
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if not pre[w]:
                    pre[w] = low[w] = counter
                    counter += 1
                    sstack.append(w)
                    onstack[w] = True
                    work.append((w, iter(succ[w])))
                    advanced = True
                    break
                if onstack[w] and pre[w] < low[v]:
                    low[v] = pre[w]
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == pre[v]:
                comp = []
                while True:
                    w = sstack.pop()
                    onstack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in succ[v]:
                    for w in comp:
                        scc[w] = next_id
                    next_id += 1
    cfg.scc = scc
    cfg.has_scc = next_id > 1


def insn_use_def(ins: Insn, call_params: Callable[[Insn], int | None]) -> tuple[int, int]:
    code = ins.code
    cls = code & 7
    mode = code & 0xE0
    src = 1 << ins.src
    dst = 1 << ins.dst
    use, d = 0xFFFF, 0
    if cls == op.BPF_LD:
        if code == op.LD_IMM64:
            d, use = dst, 0
    elif cls == op.BPF_LDX:
        if mode in (op.BPF_MEM, op.BPF_MEMSX):
            d, use = dst, src
    elif cls == op.BPF_ST:
        if mode == op.BPF_MEM:
            d, use = 0, dst
    elif cls == op.BPF_STX:
        if mode == op.BPF_MEM:
            d, use = 0, dst | src
        elif mode == op.BPF_ATOMIC:
            imm = ins.imm
            if imm == op.BPF_CMPXCHG:
                use, d = 1 | dst | src, 1
            elif imm == op.BPF_LOAD_ACQ:
                d, use = dst, src
            elif imm == op.BPF_STORE_REL:
                d, use = 0, dst | src
            else:
                use = dst | src
                d = src if imm & op.BPF_FETCH else 0
    elif cls in (op.BPF_ALU, op.BPF_ALU64):
        o = code & 0xF0
        if o == op.BPF_END:
            use = d = dst
        elif o == op.BPF_MOV:
            d = dst
            use = 0 if (code & 8) == 0 else src
        else:
            d = dst
            use = dst if (code & 8) == 0 else dst | src
    else:
        o = code & 0xF0
        if o == op.BPF_JA or o == op.BPF_JCOND:  # may_goto reads no register (its dst field is 0)
            d = use = 0
        elif o == op.BPF_EXIT:
            d, use = 0, 1
        elif o == op.BPF_CALL:
            return call_use_def(ins, call_params)
        else:
            d = 0
            use = dst if (code & 8) == 0 else dst | src
    return use, d


def call_use_def(ins: Insn, call_params: Callable[[Insn], int | None]) -> tuple[int, int]:
    """A call's use/def: it reads its arguments (r1..r5 when their number is unknown) and
    writes r0..r5."""
    np_ = call_params(ins)
    return (CALLER_SAVED & ~1 if np_ is None else ((1 << np_) - 1) << 1), CALLER_SAVED


# use/def of every instruction but calls (whose arguments depend on the program type): the
# instruction alone decides it, and programs repeat instructions, so it is kept across programs
_USE_DEF: dict[Insn, tuple[int, int]] = {}
_USE_DEF_MAX = 1 << 16


def _use_def_miss(ins: Insn, call_params) -> tuple[int, int]:
    """``insn_use_def`` of an instruction not in ``_USE_DEF``, which keeps it (not a call's)."""
    u = insn_use_def(ins, call_params)
    code = ins.code
    if not ((code & 0xF0) == op.BPF_CALL and (code & 7) in (op.BPF_JMP, op.BPF_JMP32)):
        keep(_USE_DEF, ins, u, _USE_DEF_MAX)
    return u


def compute_live_regs(insns: list[Insn], cfg: Cfg, call_params, ud: list | None = None) -> None:
    """The registers live before every instruction; ``ud``: every instruction's use/def, when
    ``single_pass`` made them."""
    n = len(insns)
    if ud is None:
        cache = _USE_DEF
        ud = []
        append = ud.append
        for ins in insns:
            u = cache.get(ins)
            append(_use_def_miss(ins, call_params) if u is None else u)
    live_in = [0] * n
    succ = cfg.succ
    post = cfg.postorder
    # iterate to the least fixed point; a pass in which no live_in changes is one (the kernel
    # also compares live_out, which only adds a pass that changes nothing); without a loop the
    # post order visits every successor before its predecessors, so the first pass reaches it
    changed = True
    while changed:
        changed = False
        for i in post:
            out = 0
            for s in succ[i]:
                out |= live_in[s]
            use, d = ud[i]
            new_in = (out & ~d) | use
            if new_in != live_in[i]:
                live_in[i] = new_in
                changed = True
        if not cfg.has_backedge:
            break
    cfg.live_regs_before = live_in


# the live registers column of every mask of r0..r9, e.g. "01.3......"
_LIVE_MASK_TEXT: tuple[str, ...] = tuple("".join(str(r) if live & (1 << r) else "." for r in range(10))
                                         for live in range(1 << 10))


# "    <idx>: " of the first instructions outside any loop, made once
_LIVE_PREFIX_N = 4096
_LIVE_PREFIX: tuple[str, ...] = tuple(f"    {i:3d}: " for i in range(_LIVE_PREFIX_N))


def format_live_regs(insns: list[Insn], cfg: Cfg, texts: list) -> str:
    """The ``Live regs before insn:`` listing; ``texts``: every instruction's text."""
    n = len(insns)
    lrb = cfg.live_regs_before
    masks = _LIVE_MASK_TEXT
    if not cfg.has_backedge and n <= _LIVE_PREFIX_N:
        # no loop (no component numbers) and short: every line from the kept prefixes
        lines = [f"{p}{masks[live & 0x3FF]} {t}\n" for p, live, t in zip(_LIVE_PREFIX, lrb, texts)]
        for i in reversed(cfg.ld_imm64_at):  # an ld_imm64 is one line
            del lines[i + 1]
        return "Live regs before insn:\n" + "".join(lines)
    out = ["Live regs before insn:\n"]
    append = out.append
    i = 0
    scc = cfg.scc
    ld_imm64 = op.LD_IMM64
    prefix = _LIVE_PREFIX
    while i < n:
        s = scc[i]  # a loop's component number, before the index
        head = f"{s:3d} {i:3d}: " if s else prefix[i] if i < _LIVE_PREFIX_N else f"    {i:3d}: "
        append(f"{head}{masks[lrb[i] & 0x3FF]} {texts[i]}\n")
        i += 2 if insns[i].code == ld_imm64 else 1
    return "".join(out)


# what single_pass makes of an opcode (anything else sends the program to the separate passes)
# (the three jumps with a target are consecutive: single_pass tests their range)
_K_OTHER, _K_PLAIN, _K_LDX, _K_LDIMM64, _K_JCC, _K_JA, _K_GOTOL, _K_CALL, _K_EXIT = range(9)


def _single_pass_kind(code: int) -> int:
    if code not in op.VALID_OPCODES:
        return _K_OTHER
    if code == op.LD_IMM64:
        return _K_LDIMM64
    cls = code & 7
    if cls == op.BPF_LDX:
        return _K_LDX
    if cls != op.BPF_JMP and cls != op.BPF_JMP32:
        return _K_PLAIN
    if code == op.EXIT:
        return _K_EXIT
    if code == op.CALL:
        return _K_CALL
    if code == op.JA:
        return _K_JA
    if code == op.GOTOL:
        return _K_GOTOL
    if code & 0xF0 in (op.BPF_JA, op.BPF_CALL, op.BPF_EXIT, op.BPF_JCOND):
        return _K_OTHER
    return _K_JCC


_SP_KIND = tuple(_single_pass_kind(c) for c in range(256))
_SP_CALLBACKS = frozenset(SYNC_CALLBACK_HELPERS | {_TIMER_SET_CALLBACK})


def single_pass(insns: list[Insn], nmaps: int, call_params, cfg: Cfg) -> tuple[list, list[int]] | None:
    """The common program's pre-exploration passes in one: one subprogram, helper calls without
    callbacks, ld_imm64 of numbers and of maps by fd, valid opcodes and jumps in range.

    Fills ``cfg`` as ``_check_jumps`` (successors) and ``mark_points`` (prune and jump points,
    ld_imm64 places, back edges) do, and returns every instruction's use/def and the maps the
    ld_imm64 refer to (in order); returns None, before writing to the log, for a
    program with anything else: the separate passes then judge it, in the kernel's order,
    with its errors.
    """
    n = len(insns)
    if not n or insns[-1].code not in (op.EXIT, op.GOTOL, op.JA):
        return None
    kind = _SP_KIND
    cache = _USE_DEF
    succ: list[tuple[int, ...]] = []
    sappend = succ.append
    ud: list = []
    uappend = ud.append
    prune = cfg.prune_points
    jmpp = cfg.jmp_points
    ldimm = cfg.ld_imm64_at
    maps_used: list[int] = []
    back = False
    i = 0
    while i < n:
        ins = insns[i]
        k = kind[ins.code]
        if k == _K_PLAIN:
            sappend((i + 1,))
        elif _K_JCC <= k <= _K_GOTOL:  # a conditional jump, ja or gotol
            tgt = i + (ins.imm if k == _K_GOTOL else ins.off) + 1
            if tgt < 0 or tgt >= n:
                return None
            if tgt <= i:
                back = True
            prune.add(tgt)
            jmpp.add(tgt)
            if k == _K_JCC:
                sappend((i + 1, tgt))
                prune.add(i)
            else:
                sappend((tgt,))
        elif k == _K_LDX:
            if ins.imm or ins.code & 0xE0 not in (op.BPF_MEM, op.BPF_MEMSX):
                return None
            sappend((i + 1,))
        elif k == _K_EXIT:
            sappend(())
        elif k == _K_CALL:
            if ins.src or ins.imm in _SP_CALLBACKS:
                return None
            sappend((i + 1,))
            prune.add(i + 1)
            jmpp.add(i + 1)
            uappend(call_use_def(ins, call_params))  # (never kept: it depends on the program type)
            i += 1
            continue
        elif k == _K_LDIMM64:
            if i == n - 1:
                return None
            nx = insns[i + 1]
            if nx.code or nx.dst or nx.src or nx.off:
                return None
            if ins.src:
                if ins.src != op.BPF_PSEUDO_MAP_FD or nx.imm or not 0 <= ins.imm < nmaps:
                    return None
                maps_used.append(ins.imm)
            ldimm.append(i)
            sappend((i + 2,))
            sappend((i + 2,))  # the second half's (never reached)
            u = cache.get(ins)
            uappend(_use_def_miss(ins, call_params) if u is None else u)
            i += 1
            ins = nx  # the second half's use/def below
        else:
            return None
        u = cache.get(ins)
        uappend(_use_def_miss(ins, call_params) if u is None else u)
        i += 1
    cfg.succ = succ
    cfg.has_backedge = back
    return ud, maps_used


def separate_passes(insns: list[Insn], nmaps: int, log, maps=None, map_used=None,
                    after_subprogs=None) -> tuple[Cfg, list[tuple[int, int]]]:
    """The passes up to check_cfg's marks, one after another in the kernel's order (any
    program); returns the ``Cfg`` so far and the call edges (``mark_points``)."""
    starts = _find_subprogs(insns, log)
    succ = _check_jumps(insns, starts)  # the rest of check_subprogs, with the successors in the same pass
    if after_subprogs is not None:
        after_subprogs(starts)
    check_ldimm64_and_opcodes(insns, nmaps, maps, map_used)
    cfg = Cfg(insn_cnt=len(insns), subprog_starts=starts)
    cfg.succ = succ
    # check_cfg's results, computed without its walk when the program passes it; its
    # walk only when it may fail, for the kernel's error
    return cfg, mark_points(insns, cfg)


def analyse(insns: list[Insn], nmaps: int, log, call_params, insn_texts, maps=None, after_cfg=None,
            map_used=None, after_subprogs=None) -> Cfg:
    """Run every pre-exploration check; raise ``CfgError`` with the kernel's message.

    ``insn_texts()``: every instruction's text, for the ``Live regs`` listing (level 2);
    ``after_cfg()`` runs where the kernel checks the attach target (check_attach_btf_id);
    ``map_used(map)`` where it checks a referenced map against the program;
    ``after_subprogs(starts)`` where it checks the program's BTF func_info against them.
    """
    cfg = Cfg(insn_cnt=len(insns), subprog_starts=[0])
    one = single_pass(insns, nmaps, call_params, cfg)
    ud = None
    try:
        if one is not None:
            # what the separate passes do when they find nothing wrong on the way
            ud, maps_used = one
            if log.level2:
                log.write("func#0 @0\n")
            if after_subprogs is not None:
                after_subprogs(cfg.subprog_starts)
            if map_used is not None and maps is not None:
                for m in maps_used:
                    bad = map_used(maps[m])
                    if bad is not None:
                        raise CfgError(*bad)
            calls: list[tuple[int, int]] = []
        else:
            cfg, calls = separate_passes(insns, nmaps, log, maps, map_used, after_subprogs)
        compute_postorder(insns, cfg)
        if not all_reachable(insns, cfg, calls):
            check_cfg(insns, cfg)
        if after_cfg is not None:
            after_cfg()
    except CfgError as e:
        if not e.subprog_cnt:
            e.subprog_cnt = _count_subprogs(insns)
        raise
    compute_scc(insns, cfg)
    compute_live_regs(insns, cfg, call_params, ud)
    if log.level2:
        log.write(format_live_regs(insns, cfg, insn_texts()))
    return cfg
