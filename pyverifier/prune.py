"""State pruning: checkpoints, the explored-state lists and state equivalence (6.18).

At a prune point the kernel compares the current state with the states already
explored from the same instruction; a match proves the rest of the path safe.
Otherwise it may remember the current state as a new checkpoint (the parent of
what follows on this path). This module holds that machinery:

* :func:`is_state_visited` (``True``: prune this path),
* :func:`states_equal` with ``regsafe``/``stacksafe``/``refsafe``,
* cleaning of explored states with the 6.18 register and stack liveness,
* branch counting of checkpoints (:func:`update_branch_counts`),
* the strongly connected components bookkeeping of loops (``SCC enter/exit``,
  back-edges whose precision is propagated when the loop is left),
* the statistics (``total_states``, ``peak_states``, ``max_states_per_insn``).

Explored states are bucketed like the kernel's hash table
(``(insn ^ callsite) % insn_cnt``); each bucket is a list, newest first.
"""
from __future__ import annotations

from itertools import chain, compress
from operator import attrgetter, is_not

from . import regs as R
from . import iters
from . import precision as P
from .regs import NOT_INIT_REG
from .scalar import Scalar, range_within
from .stack import STACK_ITER, EMPTY_SLOT, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO
from .state import FuncState, VerifierState
from .tnum import in_ as tnum_in

NOT_EXACT, EXACT, RANGE_WITHIN = 0, 1, 2
MAX_BACKEDGE_ITERS = 64
_U32 = 0xFFFFFFFF
_ADD_CONST = 3 << 30  # the kernel's BPF_ADD_CONST64 | BPF_ADD_CONST32 flags on a scalar id

_UNBOUND = R.Reg(R.SCALAR, Scalar.unknown())


class StateList:
    """One explored state with the kernel's hit/miss heuristics counters."""

    __slots__ = ("state", "hit_cnt", "miss_cnt", "in_free_list")

    def __init__(self, state):
        self.state = state
        self.hit_cnt = 0
        self.miss_cnt = 0
        self.in_free_list = False


class SccVisit:
    __slots__ = ("entry_state", "backedges")

    def __init__(self):
        self.entry_state = None
        self.backedges: list = []


class Pruner:
    """Per-verification pruning state, kept on the exploration loop as ``v.pruner``."""

    __slots__ = ("buckets", "nbuckets", "explored_size", "free_list_size", "num_backedges", "total_states",
                 "peak_states", "max_states_per_insn", "prev_jmps", "prev_insns", "scc_visits", "test_freq", "free_list")

    def __init__(self, insn_cnt: int, test_freq: bool = False):
        self.buckets: dict[int, list[StateList]] = {}
        self.nbuckets = max(insn_cnt, 1)
        self.explored_size = 0
        self.free_list_size = 0
        self.num_backedges = 0
        self.total_states = 0
        self.peak_states = 0
        self.max_states_per_insn = 0
        self.prev_jmps = 0
        self.prev_insns = 0
        self.scc_visits: dict[tuple, SccVisit] = {}
        self.test_freq = test_freq
        self.free_list: list[StateList] = []  # entries evicted from their bucket (the kernel's free list)

    def carry_over(self, done: "Pruner") -> None:
        """Continue the statistics of a finished verification pass (the kernel keeps them per program)."""
        self.total_states = done.total_states
        self.peak_states = done.peak_states
        self.max_states_per_insn = done.max_states_per_insn
        self.prev_jmps = done.prev_jmps
        self.prev_insns = done.prev_insns
        # the kernel frees a pass's states without lowering its counts of them: the next pass's
        # peak starts from there
        self.explored_size = done.explored_size
        self.free_list_size = done.free_list_size
        self.num_backedges = done.num_backedges

    def update_peak(self) -> None:
        n = self.explored_size + self.free_list_size + self.num_backedges
        if n > self.peak_states:
            self.peak_states = n


def free_states(pr: Pruner) -> None:
    """The kernel's free_states at the end of a verification: every explored state is let go.
    An explored state and its list entry point at each other; the links are cut so that
    reference counting frees them at once instead of leaving cycles for the collector."""
    if not pr.buckets and not pr.free_list and not pr.scc_visits:
        return  # nothing was explored (a program without prune points reached)
    for sl in chain(pr.free_list, *pr.buckets.values()):
        st = sl.state
        if st is not None:
            st.sl = None
    pr.buckets.clear()
    pr.free_list.clear()
    pr.scc_visits.clear()


# ---- helpers on states ------------------------------------------------------
def frame_insn_idx(st, i: int) -> int:
    return st.insn_idx if i == st.curframe else st.frames[i + 1].callsite


def _bucket_key(v, st, idx: int) -> int:
    cs = st.frames[st.curframe].callsite
    return ((idx ^ cs) & _U32) % v.pruner.nbuckets


def scc_callchain(v, st):
    if not v.cfg.has_scc:  # no loop: no instruction has a component
        return None
    scc_of = v.cfg.scc
    sites = []
    for i in range(st.curframe + 1):
        ii = frame_insn_idx(st, i)
        s = scc_of[ii]
        if s:
            return tuple(sites) + (s,)
        if i < st.curframe:
            sites.append(ii)
        else:
            return None
    return None


def _fmt_callchain(cc) -> str:
    """``(callsite,...,scc)``; the kernel stops printing call sites at one that is 0 (a call at insn 0)."""
    sites = []
    for x in cc[:-1]:
        if not x:
            break
        sites.append(f"{x},")
    return "(" + "".join(sites) + f"{cc[-1]})"


def incomplete_read_marks(v, st) -> bool:
    cc = scc_callchain(v, st)
    if cc is None:
        return False
    visit = v.pruner.scc_visits.get(cc)
    return bool(visit and visit.backedges)


def maybe_enter_scc(v, st) -> None:
    cc = scc_callchain(v, st)
    if cc is None:
        return
    visits = v.pruner.scc_visits
    visit = visits.get(cc)
    if visit is None:
        visit = visits[cc] = SccVisit()
    if visit.entry_state is None:
        visit.entry_state = st
        if v.log.level2:
            v.log.write(f"SCC enter {_fmt_callchain(cc)}\n")


def maybe_exit_scc(v, st) -> None:
    cc = scc_callchain(v, st)
    if cc is None:
        return
    visit = v.pruner.scc_visits.get(cc)
    if visit is None:
        if not st.speculative:
            raise P._not_modelled(f"scc exit: no visit info for call chain {_fmt_callchain(cc)}")
        return
    if visit.entry_state is not st:
        return
    if v.log.level2:
        v.log.write(f"SCC exit {_fmt_callchain(cc)}\n")
    visit.entry_state = None
    pr = v.pruner
    pr.num_backedges -= len(visit.backedges)
    pr.update_peak()
    propagate_backedges(v, visit)


def add_scc_backedge(v, st, backedge) -> None:
    cc = scc_callchain(v, st)
    visit = v.pruner.scc_visits.get(cc) if cc is not None else None
    if visit is None:
        raise P._not_modelled("add backedge: no visit info")
    if v.log.level2:
        v.log.write(f"SCC backedge {_fmt_callchain(cc)}\n")
    visit.backedges.insert(0, backedge)
    v.pruner.num_backedges += 1
    v.pruner.update_peak()


def propagate_backedges(v, visit) -> None:
    i = 0
    while True:
        i += 1
        if i > MAX_BACKEDGE_ITERS + 1:
            if v.log.level2:
                v.log.write("propagate_backedges: too many iterations\n")
            for be in visit.backedges:
                P.mark_all_scalars_precise(v, be)
            break
        changed = False
        for be in visit.backedges:
            if P.propagate_precision(v, be.equal_state, be):
                changed = True
        if not changed:
            break
    visit.backedges = []


def maybe_free_state(v, sl) -> None:
    if not sl.in_free_list or sl.state.branches != 0 or incomplete_read_marks(v, sl.state):
        return
    sl.in_free_list = False  # freed
    sl.state.sl = None
    v.pruner.free_list_size -= 1


def update_branch_counts(v, st) -> None:
    """A path ended: count it off its checkpoints; fully explored ones may leave their SCC."""
    sl = None
    scc = v.cfg.has_scc  # without a loop no state is in an SCC (scc_callchain)
    while st is not None:
        st.branches -= 1
        if st.branches:
            break
        if scc:
            maybe_exit_scc(v, st)
        parent = st.parent
        parent_sl = parent.sl if parent is not None else None
        if sl is not None:
            maybe_free_state(v, sl)
        st = parent
        sl = parent_sl


# ---- equivalence --------------------------------------------------------------
class IdMap:
    __slots__ = ("fwd", "rev", "tmp")

    def __init__(self, tmp: int):
        self.fwd: dict[int, int] = {}
        self.rev: dict[int, int] = {}
        self.tmp = tmp

    def check(self, old_id: int, cur_id: int) -> bool:
        if bool(old_id) != bool(cur_id):
            return False
        if not old_id:
            return True
        m = self.fwd.get(old_id)
        if m is not None:
            return m == cur_id
        if cur_id in self.rev:
            return False
        self.fwd[old_id] = cur_id
        self.rev[cur_id] = old_id
        return True

    def check_scalar(self, old_id: int, cur_id: int) -> bool:
        """Scalar links: none in the explored state asks nothing of the current one."""
        if not old_id:
            return True
        if not cur_id:
            self.tmp += 1
            cur_id = self.tmp
        return self.check(old_id, cur_id)


def _same_before_id(a, b) -> bool:
    return (a.type == b.type and a.off == b.off and a.s == b.s and a.map is b.map and a.range == b.range
            and a.mem_size == b.mem_size)


def _same_before_var_off(a, b) -> bool:
    return a.type == b.type and a.off == b.off and a.map is b.map and a.range == b.range and \
        a.mem_size == b.mem_size


def regs_exact(a, b, idmap: IdMap) -> bool:
    return _same_before_id(a, b) and idmap.check(a.id, b.id) and idmap.check(a.ref_obj_id, b.ref_obj_id)


def _within(a, b) -> bool:
    return range_within(a.s, b.s) and tnum_in(a.s.var_off, b.s.var_off)


_MEMLIKE = (R.PTR_TO_MAP_KEY, R.PTR_TO_MAP_VALUE, R.PTR_TO_MEM, R.PTR_TO_BUF, R.PTR_TO_TP_BUFFER)


def regsafe(rold, rcur, idmap: IdMap, exact: int) -> bool:
    if rold is rcur and exact != EXACT and not rold.id and not rold.ref_obj_id:
        return True
    if exact == EXACT:
        return regs_exact(rold, rcur, idmap)
    t = rold.type
    if t == R.NOT_INIT:
        if exact == NOT_EXACT or rcur.type == R.NOT_INIT:
            return True
    if t != rcur.type:
        return False
    b = t & R.BASE_MASK
    if b == R.SCALAR:
        if not rold.precise and exact == NOT_EXACT:
            return True
        if rold.id & _ADD_CONST and ((rold.id ^ rcur.id) & _ADD_CONST or rold.off != rcur.off):
            return False
        if not _within(rold, rcur):
            return False
        return idmap.check_scalar(rold.id & ~_ADD_CONST, rcur.id & ~_ADD_CONST)
    if b in _MEMLIKE:
        return (_same_before_var_off(rold, rcur) and _within(rold, rcur) and idmap.check(rold.id, rcur.id)
                and idmap.check(rold.ref_obj_id, rcur.ref_obj_id))
    if b in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META):
        if rold.range < 0 or rcur.range < 0:
            if rold.range != rcur.range:
                return False
        elif rold.range > rcur.range:
            return False
        if rold.off != rcur.off:
            return False
        if not idmap.check(rold.id, rcur.id):
            return False
        return _within(rold, rcur)
    if b == R.PTR_TO_STACK:
        return regs_exact(rold, rcur, idmap) and rold.frameno == rcur.frameno
    if b == R.PTR_TO_ARENA:
        return True
    return regs_exact(rold, rcur, idmap)


def _scalar_reg_for_stack(slot):
    types = slot.types
    if types[0] == STACK_SPILL and slot.spilled is not None and slot.spilled.type == R.SCALAR:
        return slot.spilled
    for t in types:
        if t != STACK_MISC and t != STACK_INVALID:
            return None
    return _UNBOUND


def stacksafe(old, cur, idmap: IdMap, exact: int) -> bool:
    ostack = old.stack
    cstack = cur.stack
    ncur = len(cstack) * 8
    nold = len(ostack) * 8
    i = 0
    while i < nold:
        spi = i >> 3
        j = i & 7
        oslot = ostack[spi]
        if oslot is EMPTY_SLOT and exact != EXACT:
            i += 8
            continue
        ot = oslot.types[j]
        if exact == EXACT and (i >= ncur or ot != cstack[spi].types[j]):
            return False
        if ot == STACK_INVALID or ot == STACK_MISC:  # privileged: allow_uninit_stack
            i += 1
            continue
        if i >= ncur:
            return False
        cslot = cstack[spi]
        o_reg = _scalar_reg_for_stack(oslot)
        c_reg = _scalar_reg_for_stack(cslot) if o_reg is not None else None
        if o_reg is not None and c_reg is not None:
            if not regsafe(o_reg, c_reg, idmap, exact):
                return False
            i = (spi + 1) * 8
            continue
        ct = cslot.types[j]
        if ot == STACK_MISC and ct == STACK_ZERO:
            i += 1
            continue
        if ot != ct:
            return False
        if j != 7:
            i += 1
            continue
        k = oslot.types[7]
        if k == STACK_SPILL:
            if not regsafe(oslot.spilled, cslot.spilled, idmap, exact):
                return False
        elif k in (STACK_MISC, STACK_ZERO, STACK_INVALID):
            pass
        elif k == STACK_ITER:
            oi, ci = oslot.spilled, cslot.spilled
            # the depth is not compared: iterations must be able to converge
            if oi is None or ci is None or oi.state != ci.state or not idmap.check(oi.ref_obj_id, ci.ref_obj_id):
                return False
        else:
            raise P._not_modelled("comparison of special stack slots (dynptr/irq)")
        i += 1
    return True


def _ref_id(r):
    return getattr(r, "id", r)


# per-path lock/irq/rcu counters and ids: only those VerifierState has (a __slots__ class holds
# no other attributes), looked up once instead of with getattr() on every comparison
_COUNT_ATTRS = tuple(n for n in ("active_locks", "active_preempt_locks", "active_rcu_locks")
                     if hasattr(VerifierState, n))
_ID_ATTRS = tuple(n for n in ("active_irq_id", "active_lock_id") if hasattr(VerifierState, n))
_HAS_LOCK_PTR = hasattr(VerifierState, "active_lock_ptr")
_HAS_SLEEPABLE = hasattr(VerifierState, "in_sleepable")
_HAS_CB_DEPTH = hasattr(FuncState, "callback_depth")
_counts = attrgetter(*_COUNT_ATTRS) if _COUNT_ATTRS else (lambda st: None)


def refsafe(old, cur, idmap: IdMap) -> bool:
    orefs, crefs = old.refs, cur.refs
    if len(orefs) != len(crefs) or _counts(old) != _counts(cur):
        return False
    if not orefs and not _ID_ATTRS and not _HAS_LOCK_PTR:
        return True
    for a, b in zip(orefs, crefs):
        if not idmap.check(_ref_id(a), _ref_id(b)):
            return False
        if getattr(a, "type", None) != getattr(b, "type", None):
            return False
        if getattr(a, "ptr", None) is not getattr(b, "ptr", None):
            return False
    for name in ("active_irq_id", "active_lock_id"):
        if not idmap.check(getattr(old, name, 0), getattr(cur, name, 0)):
            return False
    return getattr(old, "active_lock_ptr", None) is getattr(cur, "active_lock_ptr", None)


def states_equal(v, old, cur, exact: int) -> bool:
    if old.curframe != cur.curframe:
        return False
    idmap = IdMap(v.id_gen)
    if old.speculative and not cur.speculative:
        return False
    if _HAS_SLEEPABLE and getattr(old, "in_sleepable", False) != getattr(cur, "in_sleepable", False):
        return False
    if not refsafe(old, cur, idmap):  # references, lock/RCU/preemption state
        return False
    live = v.cfg.live_regs_before
    for i in range(old.curframe + 1):
        fo = old.frames[i]
        fc = cur.frames[i]
        if fo.callsite != fc.callsite:
            return False
        if _HAS_CB_DEPTH and getattr(fo, "callback_depth", 0) > getattr(fc, "callback_depth", 0):
            return False
        lr = live[frame_insn_idx(old, i)] & 0x7FF  # r0..r10: LD_ABS liveness sets bits above them
        oregs, cregs = fo.regs, fc.regs
        r = 0
        while lr:
            if lr & 1 and not regsafe(oregs[r], cregs[r], idmap, exact):
                return False
            lr >>= 1
            r += 1
        if not stacksafe(fo, fc, idmap, exact):
            return False
    return True


def _states_maybe_looping(old, cur) -> bool:
    fr = cur.curframe
    if old.curframe != fr:
        return False
    ra, rb = old.frames[fr].regs, cur.frames[fr].regs
    # the registers that are not the same object, picked out at C speed (most are shared)
    for a, b in compress(zip(ra, rb), map(is_not, ra, rb)):
        if not (_same_before_id(a, b) and a.id == b.id and a.ref_obj_id == b.ref_obj_id):
            return False
    return True


# ---- cleaning -----------------------------------------------------------------
def _stack_live(v, st, frame: int) -> int:
    """Slots of ``frame`` that may still be read after ``st`` (the 6.18 live-stack query)."""
    if st.curframe == 0:
        if st.frames[0].subprogno == 0:
            return v.live.live_before[st.insn_idx]
        inst = v.live.lookup_state(st, 0)  # a global function verified on its own
        m = inst.frames[0]
        return m[3][st.insn_idx - inst.start] if m is not None else 0
    alive = getattr(v.live, "alive_mask", None)
    if alive is None:
        raise P._not_modelled("stack liveness of subprogram frames")
    return alive(st, frame)


def clean_verifier_state(v, st) -> None:
    st.cleaned = True
    live = v.cfg.live_regs_before
    for i in range(st.curframe + 1):
        f = st.frames[i]
        lr = live[frame_insn_idx(st, i)]
        regs = f.regs
        for r in range(10):
            if not lr >> r & 1 and regs[r] is not NOT_INIT_REG:
                regs[r] = NOT_INIT_REG
        alive = _stack_live(v, st, i)
        stack = f.stack
        for spi in range(len(stack)):
            if not alive >> spi & 1:
                stack[spi] = EMPTY_SLOT


def clean_live_states(v, bucket: list, idx: int, cur) -> None:
    for sl in bucket:
        st = sl.state
        if st.branches or st.insn_idx != idx or st.cleaned:
            continue
        if not _same_callsites(st, cur):
            continue
        if incomplete_read_marks(v, st):
            continue
        clean_verifier_state(v, st)


def _same_callsites(a, b) -> bool:
    if a.curframe != b.curframe:
        return False
    for i in range(a.curframe, -1, -1):
        if a.frames[i].callsite != b.frames[i].callsite:
            return False
    return True


# ---- the prune point ----------------------------------------------------------
def is_state_visited(v, idx: int) -> bool:
    """The kernel's is_state_visited: True when the current path can be pruned here."""
    pr = v.pruner
    cur = v.state
    force_new = pr.test_freq or idx in v.cfg.force_checkpoints or len(cur.jmp_history) > 40
    add_new = force_new
    if v.jmps_processed - pr.prev_jmps >= 2 and v.insn_processed - pr.prev_insns >= 8:
        add_new = True
    key = _bucket_key(v, cur, idx)
    bucket = pr.buckets.get(key)
    if bucket is None:
        if not add_new:  # nothing explored here, nothing to add (max_states_per_insn: 0 counted)
            return False
        bucket = pr.buckets[key] = []
    states_cnt = 0
    evicted = None  # the entries freed by the miss heuristics (removed from the bucket below)
    hit = None
    loop = False
    if bucket:  # the first visit of a bucket has nothing to clean or compare
        clean_live_states(v, bucket, idx, cur)
        is_may_goto = v.insns[idx].code == 0xE5
        calls_cb = idx in v.cfg.calls_callback
        is_iter_next = idx in v.cfg.iter_next_calls
        force_cp = idx in v.cfg.force_checkpoints
        cur_depth = cur.may_goto_depth
    for sl in bucket:
        states_cnt += 1
        st = sl.state
        if st.insn_idx != idx:
            continue
        if st.branches:
            if is_may_goto and st.may_goto_depth != cur_depth and states_equal(v, st, cur, RANGE_WITHIN):
                loop = True
                hit = sl
                break
            if is_iter_next:  # an open-coded iterator's loop converges here
                if states_equal(v, st, cur, RANGE_WITHIN) and iters.active_iter_of_r1(cur):
                    loop = True
                    hit = sl
                    break
            elif calls_cb:  # a callback returned to its call: the iterations converge on a RANGE_WITHIN match
                if states_equal(v, st, cur, RANGE_WITHIN):
                    hit = sl  # no SCC backedge: the call and its callback form no loop in the CFG
                    break
            elif _states_maybe_looping(st, cur) and states_equal(v, st, cur, EXACT) and \
                    not (v.cfg.iter_next_calls and iters.active_depths_differ(st, cur)) and \
                    st.may_goto_depth == cur_depth and st.callback_unroll_depth == cur.callback_unroll_depth:
                _infinite_loop(v, idx, cur, st)
            if not force_new and v.jmps_processed - pr.prev_jmps < 20 and v.insn_processed - pr.prev_insns < 100:
                add_new = False
        else:
            loop = incomplete_read_marks(v, st)
            if states_equal(v, st, cur, RANGE_WITHIN if loop else NOT_EXACT):
                hit = sl
                break
        # miss
        if add_new:
            sl.miss_cnt += 1
        n = 64 if (force_cp and st.branches > 0) else 3
        if sl.miss_cnt > sl.hit_cnt * n + n:
            sl.in_free_list = True
            pr.free_list.append(sl)  # for free_states, if a path never frees it
            pr.free_list_size += 1
            pr.explored_size -= 1
            maybe_free_state(v, sl)
            if evicted is None:
                evicted = set()
            evicted.add(id(sl))
    if evicted is not None:
        bucket[:] = [sl for sl in bucket if id(sl) not in evicted]
    if hit is not None:
        hit.hit_cnt += 1
        if idx in v.cfg.jmp_points:
            P.push_jmp_history(v, cur, 0, 0)
        P.propagate_precision(v, hit.state, cur)
        if loop:
            be = cur.copy()
            be.equal_state = hit.state
            be.insn_idx = idx
            add_scc_backedge(v, hit.state, be)
        return True
    if states_cnt > pr.max_states_per_insn:
        pr.max_states_per_insn = states_cnt
    if not add_new:
        return False
    pr.total_states += 1
    pr.explored_size += 1
    pr.update_peak()
    pr.prev_jmps = v.jmps_processed
    pr.prev_insns = v.insn_processed
    P.mark_all_scalars_imprecise(cur)
    new = cur.copy()
    new.insn_idx = idx
    new.branches = 1
    sl = StateList(new)
    new.sl = sl
    maybe_enter_scc(v, new)
    cur.parent = new
    cur.first_insn_idx = idx
    cur.dfs_depth = new.dfs_depth + 1
    cur.jmp_history = []
    bucket.insert(0, sl)
    return False


def _infinite_loop(v, idx: int, cur, old) -> None:
    from .verifier import EINVAL, Reject

    log = v.log
    linfo = getattr(v, "linfo", None)
    src = linfo.line_for(idx) if linfo is not None else None
    if src is not None:
        log.write("; " + src)
    log.write(f"infinite loop detected at insn {idx}\n")
    log.write("cur state:")
    v.print_state(cur, True)
    log.write("old state:")
    v.print_state(old, True)
    raise Reject(EINVAL, f"infinite loop detected at insn {idx}")


# ---- may_goto -----------------------------------------------------------------
def find_prev_entry(v, st, idx: int):
    """The checkpoint of the current DFS path at ``idx`` (an earlier iteration of a loop)."""
    if st is None:
        return None
    for sl in v.pruner.buckets.get(_bucket_key(v, v.state, idx), ()):
        old = sl.state
        if old.insn_idx == idx and old.branches and _same_callsites(old, st) and old.dfs_depth < st.dfs_depth:
            return old
    return None


def _maybe_widen(rold, rcur, idmap: IdMap):
    if rold.type != R.SCALAR or rold.type != rcur.type:
        return rcur
    if rold.precise or rcur.precise or regs_exact(rold, rcur, idmap):
        return rcur
    return R.scalar_unknown()


def widen_imprecise_scalars(v, old, cur) -> None:
    """Forget the values of imprecise scalars that changed since the previous loop iteration."""
    from .stack import Slot

    idmap = IdMap(v.id_gen)
    for fr in range(old.curframe, -1, -1):
        fo, fc = old.frames[fr], cur.frames[fr]
        regs = fc.regs
        for i in range(11):
            regs[i] = _maybe_widen(fo.regs[i], regs[i], idmap)
        for i in range(min(len(fo.stack), len(fc.stack))):
            so, scur = fo.stack[i], fc.stack[i]
            if so.types[7] != STACK_SPILL or scur.types[7] != STACK_SPILL:
                continue
            w = _maybe_widen(so.spilled, scur.spilled, idmap)
            if w is not scur.spilled:
                fc.stack[i] = Slot(scur.types, w)


def check_may_goto(v, ins) -> None:
    """``may_goto``: continue at the jump target, queue the loop body one level deeper."""
    idx = v.insn_idx
    v.may_goto_seen.add(idx)
    cur = v.state
    prev = find_prev_entry(v, cur.parent, idx)
    queued = cur.copy()
    v.push_stack(idx + 1, idx, queued)
    queued.may_goto_depth += 1
    if prev is not None:
        widen_imprecise_scalars(v, prev, queued)
    v.insn_idx += ins.off + 1


def add_may_goto_stack(v) -> None:
    """After an accepted verification: each subprogram with a reached may_goto gets the x86-64
    JIT's 16 bytes of timed may_goto state (a counter and a timestamp) on its stack."""
    starts = v.cfg.subprog_starts
    depths = getattr(v, "subprog_stack_depth", None)
    seen = set()
    for i in sorted(v.may_goto_seen):  # a may_goto no path reached goes with the dead code
        k = max(j for j, s in enumerate(starts) if s <= i)
        if k in seen:
            continue
        seen.add(k)
        if depths:
            depths[k] += 16
        elif k == 0:
            v.stack_depth += 16
