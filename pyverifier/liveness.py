"""Call-chain sensitive live stack analysis (the 6.18 kernel's kernel/bpf/liveness.c), all frames.

Marks are kept per *function instance*: one per call chain (the call
instruction of each frame plus the entry of the innermost subprogram, printed
``(3,13)``; the main program is ``(0)``). For every instruction of the
instance's subprogram and every frame of its call chain it records the slots
the instruction may read and must write; ``update`` runs the backward data
flow to a fixed point (``live_before``, ``must_write_acc``), prints the
``(cc) frame F insn N +live -8`` lines of level 2, and hands the entry's marks
of the outer frames to the call instruction of the caller's instance.

``Liveness`` has the interface of the former main-frame-only ``StackLiveness``
(``mark_read``, ``mark_write``, ``reset_write_marks``, ``commit_write_marks``,
``update``, ``live_before`` of the main instance) plus ``frame`` arguments and
``slot_alive`` for states inside subprograms.
"""
from __future__ import annotations

from .stack import fmt_stack_mask

U64_MAX = (1 << 64) - 1


class _Instance:
    __slots__ = ("callsites", "start", "curframe", "insn_cnt", "updated", "must_write_dropped", "frames",
                 "must_write_set", "_name")

    def __init__(self, callsites: tuple[int, ...], start: int, insn_cnt: int):
        self.callsites = callsites  # callsites[0..curframe-1]: call insns; callsites[curframe]: subprog start
        self.start = start
        self.curframe = len(callsites) - 1
        self.insn_cnt = insn_cnt
        self.updated = False
        self.must_write_dropped = False
        # per frame: None or 4 lists (may_read, must_write, must_write_acc, live_before) indexed by insn - start
        self.frames: list = [None] * (self.curframe + 1)
        self.must_write_set = [False] * insn_cnt
        self._name = None

    def name(self) -> str:
        """The call chain as the log prints it, e.g. ``(0)`` or ``(3,7)`` (made once)."""
        n = self._name
        if n is None:
            n = self._name = "(" + ",".join(str(c) for c in self.callsites) + ")"
        return n

    def masks(self, frame: int):
        m = self.frames[frame]
        if m is None:
            n = self.insn_cnt
            m = self.frames[frame] = [[0] * n, [0] * n, [0] * n, [0] * n]
        return m


class Liveness:
    """The kernel's ``struct bpf_liveness`` for one verification."""

    def __init__(self, v):
        self.v = v
        self.instances: dict[tuple[int, ...], _Instance] = {}
        self.cur: _Instance | None = None
        self.write_acc = [0] * 8
        self.write_dirty = False  # some write_acc entry is not 0
        self.write_idx = 0
        self._po: dict[int, list[int]] = {}  # the post order of each subprogram, by its start

    # ---- instances --------------------------------------------------------
    def _subprog_bounds(self, start: int) -> tuple[int, int]:
        starts = self.v.cfg.subprog_starts
        k = starts.index(start)
        end = starts[k + 1] if k + 1 < len(starts) else len(self.v.insns)
        return k, end

    def _lookup(self, callsites: tuple[int, ...]) -> _Instance:
        inst = self.instances.get(callsites)
        if inst is None:
            start = callsites[-1]
            _, end = self._subprog_bounds(start)
            inst = self.instances[callsites] = _Instance(callsites, start, end - start)
        return inst

    def _callchain(self, st, frameno: int) -> tuple[int, ...]:
        starts = self.v.cfg.subprog_starts
        if not frameno:
            return (starts[st.frames[0].subprogno],)
        cs = [st.frames[i + 1].callsite for i in range(frameno)]
        cs.append(starts[st.frames[frameno].subprogno])
        return tuple(cs)

    def lookup_state(self, st, frameno: int) -> _Instance:
        return self._lookup(self._callchain(st, frameno))

    def reset_callchain(self) -> None:
        self.cur = None

    def _ensure(self) -> _Instance:
        if self.cur is None:
            st = self.v.state
            if st.curframe:
                self.cur = self.lookup_state(st, st.curframe)
            else:  # frame 0: the call chain is the subprogram's start alone
                key = (self.v.cfg.subprog_starts[st.frames[0].subprogno],)
                inst = self.instances.get(key)
                self.cur = inst if inst is not None else self._lookup(key)
        return self.cur

    @property
    def live_before(self) -> list[int]:
        """live_before of the main program's instance, by absolute instruction index."""
        inst = self._lookup((0,))
        m = inst.frames[0]
        return m[3] if m is not None else [0] * inst.insn_cnt

    # ---- marks --------------------------------------------------------------
    def _mark_read(self, inst: _Instance, frame: int, idx: int, mask: int) -> None:
        m = inst.masks(frame)
        i = idx - inst.start
        new = m[0][i] | mask
        if new != m[0][i] and (new | m[3][i]) != m[3][i]:
            inst.updated = True
        m[0][i] = new

    def mark_read(self, idx: int, mask: int, frame: int | None = None) -> None:
        inst = self._ensure()
        if frame is None:
            frame = self.v.state.curframe
        self._mark_read(inst, frame, idx, mask)

    def mark_write(self, mask: int, frame: int | None = None) -> None:
        if frame is None:
            frame = self.v.state.curframe
        self.write_acc[frame] |= mask
        self.write_dirty = True

    def reset_write_marks(self, idx: int) -> None:
        """bpf_reset_stack_write_marks: instruction ``idx`` starts with no stack write marks."""
        if self.cur is None:
            self._ensure()
        self.write_idx = idx
        if self.write_dirty:
            self.write_acc = [0] * 8
            self.write_dirty = False

    def commit_write_marks(self, inst: _Instance | None = None) -> None:
        """bpf_commit_stack_write_marks: the marks since the reset become the must-write set of the
        instruction in ``inst`` (the current instance when None)."""
        if inst is None:
            inst = self.cur
            if inst is None:
                return
        i = self.write_idx - inst.start
        mws = inst.must_write_set
        if not self.write_dirty and not mws[i]:
            mws[i] = True  # nothing written, nothing recorded before: nothing to intersect
            self.write_idx = 0
            return
        for frame in range(inst.curframe + 1):
            mask = self.write_acc[frame]
            if mask == 0 and not mws[i]:
                continue
            m = inst.masks(frame)
            old = m[1][i]
            if inst.must_write_set[i]:
                mask &= old
            if old != mask:
                m[1][i] = mask
                inst.updated = True
            if old & ~mask:
                inst.must_write_dropped = True
        inst.must_write_set[i] = True
        self.write_idx = 0

    # ---- propagation ----------------------------------------------------------
    def _update_instance(self, inst: _Instance) -> None:
        v = self.v
        log = v.log
        prune = v.cfg.prune_points
        if inst.must_write_dropped:
            for m in inst.frames:
                if m is not None:
                    for k in range(inst.insn_cnt):
                        m[2][k] = 0
        po = self._po.get(inst.start)
        if po is None:
            k, _ = self._subprog_bounds(inst.start)
            po = self._po[inst.start] = v.cfg.postorder[v.cfg.postorder_starts[k]:v.cfg.postorder_starts[k + 1]]
        # without a loop the post order sees every successor before its predecessors: a pass
        # that changed something has reached the fixed point, and the next would change nothing
        dag = not v.cfg.has_backedge
        all_succ = v.succ
        level2 = log.level2
        s0 = inst.start
        name = None
        cnt = 0
        while True:
            cnt += 1
            changed = False
            for frame in range(inst.curframe + 1):
                m = inst.frames[frame]
                if m is None:
                    continue
                mr, mw, mwa, lb = m
                for idx in po:
                    # one instruction: live_before from its successors' (the kernel's update_insn)
                    succ = all_succ[idx]
                    if not succ:
                        continue
                    i = idx - s0
                    after = 0
                    acc = U64_MAX
                    for s in succ:
                        after |= lb[s - s0]
                        acc &= mwa[s - s0]
                    mwi = mw[i]
                    acc |= mwi
                    before = (after & ~mwi) | mr[i]
                    if before != lb[i] or acc != mwa[i]:
                        changed = True
                        if level2 and (mr[i] or mwi or idx == s0 or idx in prune):
                            if name is None:
                                name = inst.name()
                            if lb[i] != before:  # (_log_change prints nothing for no change)
                                _log_change(log, name, "live", frame, idx, lb[i], before)
                            if mwa[i] != acc:
                                _log_change(log, name, "written", frame, idx, mwa[i], acc)
                        lb[i] = before
                        mwa[i] = acc
            if not changed:
                break
            if dag:
                cnt += 1  # the pass that would find nothing to change
                break
        if log.level2:
            log.write(f"{inst.name()} live stack update done in {cnt} iterations\n")
        if inst.curframe > 0:
            self._propagate_to_outer(inst)

    def _propagate_to_outer(self, inst: _Instance) -> None:
        cs = inst.callsites
        outer_start = self._outer_start(cs)
        outer = self._lookup(cs[:-2] + (outer_start,))
        callsite = cs[-2]
        self.write_idx = callsite
        for i in range(outer.curframe + 1):
            self.write_acc[i] = 0
        for frame in range(inst.curframe):
            m = inst.frames[frame]
            if m is None:
                continue
            self.write_acc[frame] |= m[2][0]
            self.write_dirty = True
            self._mark_read(outer, frame, callsite, m[3][0])
        self.commit_write_marks(outer)

    def _outer_start(self, cs: tuple[int, ...]) -> int:
        """Entry of the subprogram containing the call instruction cs[-2]."""
        callsite = cs[-2]
        best = 0
        for s in self.v.cfg.subprog_starts:
            if s <= callsite:
                best = s
        return best

    def update(self, log=None, succ=None, postorder=None, prune=None) -> None:
        """bpf_update_live_stack: every instance of the current state's call chain, innermost first."""
        self.reset_callchain()
        st = self.v.state
        if not st.curframe:  # the main frame alone: its call chain is the subprogram's start
            inst = self.instances.get((self.v.cfg.subprog_starts[st.frames[0].subprogno],))
            if inst is None:  # nothing marked in it yet: nothing to propagate
                return
            if inst.updated:
                self._update_instance(inst)
                inst.updated = False
                inst.must_write_dropped = False
            return
        for frame in range(st.curframe, -1, -1):
            inst = self.lookup_state(st, frame)
            if inst.updated:
                self._update_instance(inst)
                inst.updated = False
                inst.must_write_dropped = False

    # ---- queries ------------------------------------------------------------------
    def slot_alive(self, st, frameno: int, spi: int) -> bool:
        """bpf_stack_slot_alive for state ``st`` (after bpf_live_stack_query_init)."""
        insts = [self.lookup_state(st, f) for f in range(st.curframe + 1)]
        cur = insts[st.curframe]
        if _is_live_before(cur, st.insn_idx, frameno, spi):
            return True
        for i in range(frameno, st.curframe):
            callsite = cur.callsites[i]
            if _is_live_before(insts[i], callsite + 1, frameno, spi):
                return True
        return False

    def alive_mask(self, st, frameno: int) -> int:
        """The slots ``slot_alive`` finds alive, as a mask: all 64 at once, the call chain looked up once."""
        curframe = st.curframe
        insts = [self.lookup_state(st, f) for f in range(curframe + 1)]
        cur = insts[curframe]
        mask = _live_word(cur, st.insn_idx, frameno)
        for i in range(frameno, curframe):
            mask |= _live_word(insts[i], cur.callsites[i] + 1, frameno)
        return mask & U64_MAX


def _live_word(inst: _Instance, idx: int, frameno: int) -> int:
    """live_before of ``frameno`` at ``idx`` in ``inst`` (0 where ``_is_live_before`` finds nothing)."""
    if frameno >= len(inst.frames):
        return 0
    m = inst.frames[frameno]
    i = idx - inst.start
    if m is None or not 0 <= i < inst.insn_cnt:
        return 0
    return m[3][i]


def _is_live_before(inst: _Instance, idx: int, frameno: int, spi: int) -> bool:
    if frameno >= len(inst.frames):
        return False
    m = inst.frames[frameno]
    i = idx - inst.start
    return m is not None and 0 <= i < inst.insn_cnt and bool(m[3][i] >> spi & 1)


def _log_change(log, cc: str, pfx: str, frame: int, idx: int, old: int, new: int) -> None:
    changed = old ^ new
    if not changed:
        return
    ones = new & changed
    zeros = ~new & changed
    s = f"{cc} frame {frame} insn {idx} "
    if ones:
        s += f"+{pfx} {fmt_stack_mask(ones)} "
    if zeros:
        s += f"-{pfx} {fmt_stack_mask(zeros & U64_MAX)}"
    log.write(s + "\n")
