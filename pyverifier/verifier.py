"""The exploration loop and the public ``verify``.

Walks every path of the program depth first like the kernel's do_check():
a conditional jump whose outcome is unknown pushes the jump target with a copy
of the state, the fall-through continues; at ``exit`` the next pushed state is
popped. The log is written as the 6.18 kernel writes it. Anything the loop
does not model ends the run with ``verdict="error"`` and
``message="not modelled: ..."``.
"""
from __future__ import annotations

import time
import traceback

from . import VERIFIER_NAME
from . import opcodes as op
from .insn import decode
from .program import Program
from .result import ACCEPT, ERROR, NOT_MODELLED, REJECT, Result
# the modules of the per-instruction paths, imported once (an import statement inside a
# function costs about a microsecond each time it runs); none of them imports this module
# at load time
from . import atomics, btf_access, calls, kfuncs, links, locks, memory, packet, precision, retval, subprog
from . import tracing_ctx, uapi
from . import ctx as ctxm
from . import packet as ptrcmp
from . import regs as R
from . import scalar as sc
from . import cfg as cfgm
from . import disasm, progbtf, progflags
from . import prune as prunem
from .helpers import num_params
from .liveness import Liveness
from .log import LOG_STATS, Log, vlog_alignment
from .refs import format_refs, not_null_reg, on_null_check
from .stack import Slot
from .maps import MapInfo
from .memory import save_ptr_type
from .state import format_frame, format_regs, initial_state
from .subprog import add_loop_inline_stack, check_max_stack_depth
from .condjmp import check_reg, set_min_max
from .scalar_fork import fork as fork_scalars

EINVAL = 22
EACCES = 13
E2BIG = 7
COMPLEXITY_LIMIT_INSNS = 1_000_000
BPF_F_TEST_STATE_FREQ = 1 << 3
_TRACING = uapi.PROG_TYPES["tracing"]
_TRACE_RAW_TP = uapi.ATTACH_TYPES["trace_raw_tp"]
_TRACE_ITER = uapi.ATTACH_TYPES["trace_iter"]


# the padding and ";" that join a state to the instruction line just printed, by that line's length
_STATE_PREFIX: dict[int, str] = {}  # the alignment before a state, by the length of its instruction's line


def _state_prefix(n_line: int) -> str:
    """The spaces and ``;`` between an instruction's line of ``n_line`` characters and its state."""
    prefix = _STATE_PREFIX.get(n_line)
    if prefix is None:
        prefix = _STATE_PREFIX[n_line] = " " * vlog_alignment(n_line) + ";"
    return prefix


class Reject(Exception):
    def __init__(self, errno: int, msg: str | None = None):
        super().__init__(msg)
        self.errno = errno
        self.msg = msg


class NotModelled(Exception):
    pass


def verify(program: Program, log_level: int = 2) -> Result:
    """Verify ``program`` as the 6.18 kernel would (privileged). Never raises.

    ``verify_us`` covers what the kernel's ``verification time`` covers: the kernel copies the
    instructions in (bpf_prog_load) before bpf_check starts its clock, and prints the statistics
    lines and hands the log back (print_verification_stats, bpf_vlog_finalize) after stopping it;
    decoding the instructions and writing those lines stay outside the timed region here too, and
    so does making the maps' ``MapInfo`` (the kernel's maps are created before the program is loaded).
    """
    try:
        insns = decode(program.insns)
    except Exception:  # noqa: BLE001 - decoded again below, where the error becomes the result
        insns = None
    try:  # the maps exist before the program is loaded (BPF_MAP_CREATE): made outside the clock too
        maps = [MapInfo.from_spec(i, m) for i, m in enumerate(program.maps)]
    except Exception:  # noqa: BLE001 - made again below, where the error becomes the result
        maps = None
    res = Result(program_id=program.id, verifier=VERIFIER_NAME, verdict=ERROR, log_level=log_level)
    t0 = time.perf_counter()
    t1 = None
    v = None
    try:
        log = Log(log_level)
        v = _Verifier(program, log, insns, maps)
        stats = v.run(stats=False)
        v.free()
        t1 = time.perf_counter()
        if stats:
            v.write_stats()
        res.verdict = v.verdict
        res.errno = v.errno
        res.log = log.text()
        res.insns_processed = v.insn_processed
        res.total_states = v.total_states
        res.peak_states = v.peak_states
        res.max_states_per_insn = v.max_states_per_insn
        res.mark_read = 0
        res.stack_depth = list(getattr(v, "subprog_stack_depth", None) or [v.stack_depth])
        if v.not_modelled:
            res.verdict = ERROR
            res.message = NOT_MODELLED + v.not_modelled
        elif v.verdict == REJECT:
            res.message = v.reject_msg or ""
    except Exception as e:  # an internal failure is a tool error, never a verdict
        if t1 is None and v is not None:
            v.free()
        res.verdict = ERROR
        res.message = f"internal error: {type(e).__name__}: {e} ({traceback.extract_tb(e.__traceback__)[-1].lineno})"
    res.verify_us = [((time.perf_counter() if t1 is None else t1) - t0) * 1e6]
    return res


class _Verifier:
    pruner = None  # the exploration's Pruner (do_check)
    live = None  # the stack liveness (_check)

    def __init__(self, program: Program, log, insns=None, maps=None):
        self.prog = program
        self.log = log
        self.insns = decode(program.insns) if insns is None else insns  # insns: decode(program.insns)
        self.insn_text: list = [None] * len(self.insns)  # _fmt_insn's cache
        self.insn_ptr_type: list = [None] * len(self.insns)  # memory.save_ptr_type's record
        # maps: the MapInfo of every program.maps entry, made by the caller
        self.maps = [MapInfo.from_spec(i, m) for i, m in enumerate(program.maps)] if maps is None else maps
        self.cfgm = cfgm
        self.disasm = disasm
        self.verdict = REJECT
        self.errno: int | None = None
        self.reject_msg: str | None = None
        self.not_modelled: str | None = None
        self.insn_processed = 0
        self.total_states = 0
        self.peak_states = 0
        self.max_states_per_insn = 0
        self.stack_depth = 0
        self.id_gen = 0
        self.jmps_processed = 0
        self.prev_jmps_processed = 0
        self.prev_insn_processed = 0
        self.explored: dict[int, list] = {}
        self.scratched_regs = 0
        self.scratched_stack = 0
        self.prev_log_pos = 0
        self.prev_insn_print_pos = 0
        self.stack: list = []  # pushed (state, insn_idx, prev_insn_idx, log_pos)

    # ---- driver ---------------------------------------------------------
    def run(self, stats: bool = True) -> bool:
        """Verify; then write the statistics lines (``stats``), or return whether they are due."""
        log = self.log
        try:
            self._check()
            self.verdict = ACCEPT
            self.errno = None
        except self.cfgm.CfgError as e:
            log.write(e.msg + "\n" if e.newline else e.msg)
            self.subprog_stack_depth = [0] * e.subprog_cnt if e.newline else None
            self.errno = e.errno
            self.reject_msg = e.msg
        except (self.cfgm.NotModelled, NotModelled) as e:
            self.not_modelled = str(e)
            return False
        except Reject as e:
            self.errno = e.errno
            self.reject_msg = e.msg
            if getattr(e, "no_log", False):  # refused by the loader before the verifier ran
                return False
        pr = self.pruner
        if pr is not None:
            self.total_states, self.peak_states = pr.total_states, pr.peak_states
            self.max_states_per_insn = pr.max_states_per_insn
            if self.verdict == ACCEPT:
                if self.loop_inline:
                    add_loop_inline_stack(self)
                if self.may_goto_seen:
                    prunem.add_may_goto_stack(self)
                if len(self.entered_subprogs) < len(self.subprog_stack_depth):
                    # an accepted program loses its never-called subprograms with the dead code
                    self.subprog_stack_depth = [d for i, d in enumerate(self.subprog_stack_depth)
                                                if i in self.entered_subprogs]
        if self.verdict == ACCEPT and log.level1 and not log.level2:
            log.reset(0)
        if stats:
            self.write_stats()
        return True

    def free(self) -> None:
        """Let the verification's states go, as the kernel does before it stops its clock; the
        references back to the verifier are cut so that nothing waits for the cycle collector."""
        pr = self.pruner
        if pr is not None:
            prunem.free_states(pr)
        live = self.live
        if live is not None:
            live.v = None
        self.stack.clear()

    def write_stats(self) -> None:
        """The kernel's print_verification_stats (after it has stopped its clock)."""
        log = self.log
        if log.level & LOG_STATS:
            log.write("verification time 0 usec\n")
            depths = getattr(self, "subprog_stack_depth", ())
            if depths is None:
                depths = []  # refused before any subprogram was known
            elif not depths:
                depths = [self.stack_depth]
            log.write(f"stack depth {'+'.join(str(d) for d in depths)}\n")
        log.write(
            f"processed {self.insn_processed} insns (limit {COMPLEXITY_LIMIT_INSNS}) max_states_per_insn "
            f"{self.max_states_per_insn} total_states {self.total_states} peak_states {self.peak_states} "
            f"mark_read 0\n"
        )

    def err(self, msg: str, errno: int = EACCES):
        self.log.write(msg + "\n")
        raise Reject(errno, msg)

    def _fmt_insn(self, idx: int) -> str:
        t = self.insn_text[idx]
        if t is None:
            t = self.insn_text[idx] = self.disasm.format_line_named(self.insns, idx, _kfunc_names)
        return t

    def _all_insn_text(self) -> list:
        """Every instruction's text (``_fmt_insn``'s), made in one go: the log lists them all."""
        t = self.insn_text = self.disasm.format_lines(self.insns, _kfunc_names)
        return t

    def _check_sleepable(self) -> None:
        progflags.check_sleepable(self)

    def _check_func_info_layout(self, starts: list[int]) -> None:
        progbtf.check_func_info_layout(self.prog, starts, self.insns)

    def _map_used(self, m):
        """check_map_prog_compatibility for a map an ld_imm64 refers to: None or (message, errno)."""
        if not m.btf:
            return None
        if m.btf_issue:
            raise NotModelled(m.btf_issue)
        from .mapvalue import check_prog_compat

        return check_prog_compat(m, self.prog.prog_type)

    def _call_params(self, ins) -> int | None:
        if ins.src == op.BPF_PSEUDO_KFUNC_CALL:
            from .kfuncs import num_params as kfunc_params

            return kfunc_params(ins.imm)
        if ins.src != 0:
            return None
        return num_params(ins.imm, self.prog.prog_type, self.prog.expected_attach_type or 0, self.prog.attach_to)

    def _check(self) -> None:
        prog = self.prog
        flags = prog.prog_flags  # (no flag: none of the flag checks has anything to say)
        if flags and progflags.check_load(flags):
            e = Reject(EINVAL, "rejected with EINVAL before the verifier ran (no log)")
            e.no_log = True
            raise e
        ptype = prog.prog_type
        self.tracepoint = None
        if ptype == _TRACING:
            eat = prog.expected_attach_type or 0
            if eat == _TRACE_RAW_TP:
                self.tracepoint = tracing_ctx.prepare(self)
            elif eat == _TRACE_ITER:
                self.tracepoint = tracing_ctx.prepare_iterator(self)
            else:
                raise NotModelled(f"tracing programs of attach type {prog.expected_attach_type}")
        elif not ctxm.supported(ptype):
            raise NotModelled(f"program type {ptype}")
        if not ctxm.attach_type_valid(ptype, prog.expected_attach_type or 0):
            e = Reject(EINVAL, "rejected with EINVAL before the verifier ran (no log)")
            e.no_log = True
            raise e
        if flags and progflags.not_modelled(flags):
            raise NotModelled(progflags.not_modelled(flags))
        for m in self.maps:
            if m.btf_refused:  # the kernel would not create the map: nothing to judge
                raise NotModelled(m.btf_issue)
        self.strict_alignment = progflags.strict_alignment(flags) if flags else False
        if prog.btf is not None:
            progbtf.check_func_info_early(prog)
        self.cfg = self.cfgm.analyse(self.insns, len(self.maps), self.log, self._call_params, self._all_insn_text,
                                    self.maps, self._check_sleepable, self._map_used, self._check_func_info_layout)
        self.succ = self.cfg.succ  # successors of every instruction (a list)
        self.live = Liveness(self)
        self.subprog_stack_depth = [0] * len(self.cfg.subprog_starts)
        if prog.btf is None and not prog.line_info:  # no BTF: neither func_info nor line_info counts
            self.func_btf = self.linfo = None
        else:
            self.func_btf = progbtf.read_func_info(prog, self.cfg.subprog_starts)  # None: no func_info
            self.linfo = progbtf.read_line_info(prog)  # None: no line_info
        self.btf_unreliable: set[int] = set()  # subprograms whose BTF prototype no longer counts
        self.loop_inline: dict[int, list] = {}  # bpf_loop call -> [fit for inlining, callback subprog]
        self.entered_subprogs = {0}  # subprograms some path called (the others are dead code)
        self.may_goto_seen: set[int] = set()  # may_goto instructions some path reached
        self.returned_from_callee = False
        self.kfunc_zero_reached = False  # a path reached a kfunc call of BTF id 0 (pyverifier.kfuncs)
        self.global_called: set[int] = set()  # global functions some path called
        self.global_verified: set[int] = set()
        self.state = initial_state()
        if self.func_btf is not None:
            progbtf.check_main(self)
        self.scratch_all()
        self.do_check()
        if self.global_called:
            from .subprog import check_global_subprogs

            check_global_subprogs(self)
        check_max_stack_depth(self)
        if self.kfunc_zero_reached:
            self.err("invalid kernel function call not eliminated in verifier pass", EINVAL)

    # ---- scratch marks / state printing -----------------------------------
    def scratch_all(self) -> None:
        self.scratched_regs = 0x7FF
        self.scratched_stack = -1

    def print_state(self, st, print_all: bool, prefix: str = "") -> None:
        f = st.cur  # (st may be precision's view of another frame, which has no frames)
        text = format_frame(f, print_all, self.scratched_regs, self.scratched_stack)
        if st.refs:
            text += format_refs(st)
        if f.in_callback_fn:
            text += " cb"
        self.log.write(prefix + text + "\n")
        if not print_all:
            self.scratched_regs = 0
            self.scratched_stack = 0

    def print_insn_state(self) -> None:
        log = self.log
        pos = self.prev_log_pos
        # print_state(self.state, False, prefix), inlined: it runs for most instructions at level 2
        st = self.state
        f = st.frames[st.curframe]
        sr = self.scratched_regs
        if not self.scratched_stack and not f.frameno:
            # registers of frame 0 scratched, no slot (the common case): format_frame's text
            text = format_regs(f.regs, sr & 0x7FF, 0)
        else:
            text = format_frame(f, False, sr, self.scratched_stack)
        if st.refs:
            text += format_refs(st)
        if f.in_callback_fn:
            text += " cb"
        chunks = log._chunks  # log.write: called at level 1 and 2 only, the log is enabled
        if pos and pos == log.end_pos:
            # the state joins the instruction's line, which is the last chunk: its newline
            # goes (log.reset(pos - 1)) and the state follows, aligned
            last = chunks[-1]
            n_line = self.prev_insn_print_pos
            if last:
                # the line without its newline, then the alignment
                prefix = _STATE_PREFIX.get(n_line)
                if prefix is None:
                    prefix = _state_prefix(n_line)
                chunks[-1] = line = f"{last[:-1]}{prefix}{text}\n"
                log.end_pos = pos - len(last) + len(line)
            else:  # an empty write after the line
                text = _state_prefix(n_line) + text + "\n"
                log.reset(pos - 1)
                chunks.append(text)
                log.end_pos = pos - 1 + len(text)
        else:
            text = f"{self.insn_idx}:" + text + "\n"
            chunks.append(text)
            log.end_pos += len(text)
        self.scratched_regs = 0
        self.scratched_stack = 0

    def fmt_reg(self, r, frameno: int = 0) -> str:
        return R.fmt_reg(r, frameno)

    # ---- main loop ------------------------------------------------------
    def do_check(self, start: int = 0) -> None:
        log = self.log
        insns = self.insns
        n = len(insns)
        self.insn_idx = start
        prev_insn_idx = -1
        do_print_state = False
        prune = self.cfg.prune_points
        jmp_points = self.cfg.jmp_points
        done = self.pruner  # the main program's, when a global function follows
        self.pruner = prunem.Pruner(n, bool(self.prog.prog_flags & BPF_F_TEST_STATE_FREQ))
        if done is not None:
            # one set of statistics for the whole program; its explored states are freed in between
            self.pruner.carry_over(done)
            prunem.free_states(done)
        self.cur_hist_ent = False
        insn_lines: list = [None] * n  # "idx: text\n" of each instruction, made once
        insn_text = self.insn_text  # every instruction's text at level 2 (analyse listed them)
        handlers = _HANDLERS
        may_write = _MAY_WRITE_STACK
        live = self.live
        linfo = self.linfo
        level1 = log.level1  # the log's level does not change during the exploration
        level2 = log.level2
        chunks = log._chunks  # log.write(line) below: the log is enabled at level 1
        while True:
            idx = self.insn_idx
            self.cur_hist_ent = False
            self.prev_insn_idx = prev_insn_idx
            if idx >= n:
                self.err(f"invalid insn idx {idx} insn_cnt {n}", 14)
            self.insn_processed += 1
            if self.insn_processed > COMPLEXITY_LIMIT_INSNS:
                self.err(f"BPF program is too large. Processed {self.insn_processed} insn", E2BIG)
            st = self.state
            st.last_insn_idx = prev_insn_idx
            st.insn_idx = idx
            if idx in prune and prunem.is_state_visited(self, idx):
                if level1:
                    if do_print_state:
                        log.write(f"\nfrom {prev_insn_idx} to {idx}{' (speculative execution)' if self.state.speculative else ''}: safe\n")
                    else:
                        log.write(f"{idx}: safe\n")
                exited = True
            else:
                if idx in jmp_points:
                    precision.push_jmp_history(self, st)
                if level1:
                    if do_print_state and level2:
                        log.write(f"\nfrom {prev_insn_idx} to {idx}:")
                        self.print_state(st, True)
                        do_print_state = False
                    if self.scratched_regs or self.scratched_stack:
                        self.print_insn_state()
                    if linfo is not None:
                        src = linfo.line_for(idx)
                        if src is not None:
                            log.write("; " + src)
                    line = insn_lines[idx]
                    if line is None:
                        line = insn_text[idx]  # _fmt_insn's, without the call when analyse made it
                        if line is None:
                            line = self._fmt_insn(idx)
                        line = insn_lines[idx] = f"{_IDX_PREFIX[idx] if idx < 4096 else f'{idx}: '}{line}\n"
                    chunks.append(line)
                    n_line = len(line)
                    self.prev_log_pos = log.end_pos = log.end_pos + n_line
                    self.prev_insn_print_pos = n_line
                prev_insn_idx = idx
                ins = insns[idx]
                code = ins.code
                if may_write[code]:
                    live.reset_write_marks(idx)
                    exited = handlers[code](self, ins)  # the kernel's do_check_insn
                    live.commit_write_marks()
                else:
                    # an instruction that never writes the stack: its commit would record an empty
                    # must-write mask, which no later visit can change (see _MAY_WRITE_STACK)
                    exited = handlers[code](self, ins)
                if self.returned_from_callee:
                    self.returned_from_callee = False
                    do_print_state = True
            if exited:
                self.scratch_all()
                prunem.update_branch_counts(self, self.state)
                live.update(log, self.succ, self.cfg.postorder, prune)
                if not self.stack:
                    return
                st, self.insn_idx, prev_insn_idx, log_pos = self.stack.pop()
                if not level2:
                    log.reset(log_pos)
                self.state = st
                do_print_state = True

    def push_stack(self, target: int, prev: int, st) -> None:
        self.stack.append((st, target, prev, self.log.end_pos))
        if len(self.stack) > 8192:
            # 6.18 fails the push itself, which its callers report as EFAULT (measured)
            self.err(f"The sequence of {len(self.stack)} jumps is too complex.", 14)
        if st.parent is not None:
            st.parent.branches += 1

    # ---- registers ------------------------------------------------------
    def check_reg_read(self, regno: int):
        if regno >= 11:
            self.err(f"R{regno} is invalid", EINVAL)
        self.scratched_regs |= 1 << regno
        st = self.state
        r = st.frames[st.curframe].regs[regno]
        if r.type == 0:
            self.err(f"R{regno} !read_ok")
        return r

    def check_reg_write(self, regno: int) -> None:
        if regno >= 11:
            self.err(f"R{regno} is invalid", EINVAL)
        self.scratched_regs |= 1 << regno
        if regno == 10:
            self.err("frame pointer is read only")

    def clear_caller_saved(self, regs) -> None:
        """R0-R5 of ``regs`` after a call: uninitialized (clear_caller_saved_regs), and scratched."""
        regs[0:6] = _NOT_INIT6
        self.scratched_regs |= 0x3F

    def set_reg(self, regno: int, r) -> None:
        st = self.state
        st.frames[st.curframe].regs[regno] = r

    # the kernel's do_check_insn: one method per kind of opcode, picked by _HANDLERS (the opcode's
    # class and, for jumps, operation); True when the path ended at the instruction
    def _insn_alu(self, ins) -> bool:
        # the common cases first, short of check_alu's checks that cannot fail in them
        code = ins.code
        o = code & 0xF0
        dst = ins.dst
        if o == 0xB0 and not code & 8 and dst < 10 and not ins.src and not ins.off:
            # mov of an immediate with its reserved fields clear, into r0..r9: the common case
            # of check_alu's MOV path, without its checks that cannot fail
            self.scratched_regs |= 1 << dst
            st = self.state
            st.frames[st.curframe].regs[dst] = R.scalar_const(ins.imm if code & 7 == 7 else ins.imm & 0xFFFFFFFF)
            self.insn_idx += 1
            return False
        if code == 0xBF and dst < 10 and ins.src < 11 and not ins.off and not ins.imm:
            # a 64-bit copy of a pointer: check_alu's MOV path and mov_reg's first case
            st = self.state
            regs = st.frames[st.curframe].regs
            r = regs[ins.src]
            if r.type > R.SCALAR:
                self.scratched_regs |= (1 << dst) | (1 << ins.src)
                regs[dst] = r
                self.insn_idx += 1
                return False  # not a scalar: nothing for the invariant check
        if code == 0x07 and dst < 10 and not ins.src and not ins.off:
            # a 64-bit addition of an immediate to a pointer: adjust_ptr's common case (see
            # memory.ptr_add_const), without the checks that cannot fail; a pointer needs no
            # invariant check
            st = self.state
            regs = st.frames[st.curframe].regs
            r = regs[dst]
            if r.type > R.SCALAR:
                nr = memory.ptr_add_const(r, ins.imm)
                if nr is not None:
                    self.scratched_regs |= 1 << dst
                    regs[dst] = nr
                    self.insn_idx += 1
                    return False
        if o in _ALU_IMM_SHORT and not code & 8 and dst < 10 and not ins.src and not ins.off:
            # an op with an immediate on a scalar in r0..r9, reserved fields clear, a shift within
            # the width: the common case of check_alu's path, without its checks that cannot fail
            st = self.state
            d = st.frames[st.curframe].regs[dst]
            is64 = code & 7 == 7
            if d.type == R.SCALAR and (o < 0x60 or o == 0xA0 or 0 <= ins.imm < (64 if is64 else 32)):
                self.scratched_regs |= 1 << dst
                if not self._scalar_op(ins, o, d, None, sc.Scalar.const(ins.imm), is64):
                    check_reg(self, dst, "alu")
                self.insn_idx += 1
                return False
        if not self.check_alu(ins):  # True: a constant, consistent by construction
            check_reg(self, ins.dst, "alu")
        self.insn_idx += 1
        return False

    def _insn_ldx(self, ins) -> bool:
        t = self.check_reg_read(ins.src).type
        self.check_reg_write(ins.dst)
        self.check_mem_access(ins.src, ins.off, op.SIZE_BYTES[ins.code & 0x18], False, ins.dst, ins,
                              (ins.code & 0xE0) == op.BPF_MEMSX)
        save_ptr_type(self, t, True)
        check_reg(self, ins.dst, "ldx")
        self.insn_idx += 1
        return False

    def _insn_stx(self, ins) -> bool:
        if ins.code & 0xE0 == op.BPF_ATOMIC:
            atomics.check_atomic(self, ins)
            self.insn_idx += 1
            return False
        if ins.code & 0xE0 != op.BPF_MEM or ins.imm != 0:
            self.err("BPF_STX uses reserved fields", EINVAL)
        self.check_reg_read(ins.src)
        t = self.check_reg_read(ins.dst).type
        self.check_mem_access(ins.dst, ins.off, op.SIZE_BYTES[ins.code & 0x18], True, ins.src, ins, False)
        save_ptr_type(self, t, False)
        self.insn_idx += 1
        return False

    def _insn_st(self, ins) -> bool:
        if ins.code & 0xE0 != op.BPF_MEM or ins.src != 0:
            self.err("BPF_ST uses reserved fields", EINVAL)
        t = self.check_reg_read(ins.dst).type
        self.check_mem_access(ins.dst, ins.off, op.SIZE_BYTES[ins.code & 0x18], True, -1, ins, False)
        save_ptr_type(self, t, False)
        self.insn_idx += 1
        return False

    def _insn_ld(self, ins) -> bool:
        if ins.code == op.LD_IMM64:
            self.check_ld_imm64(ins)
            self.insn_idx += 2
            return False
        if ins.code & 0xE0 in (0x20, 0x40):
            from .memory import check_ld_abs

            check_ld_abs(self, ins)
            self.insn_idx += 1
            return False
        raise NotModelled(f"BPF_LD mode {ins.code & 0xE0:#x}")

    def _insn_call(self, ins) -> bool:
        self.jmps_processed += 1
        if (ins.code & 8) or (ins.src != 2 and ins.off != 0) or ins.src not in (0, 1, 2) or ins.dst != 0 or \
                ins.code & 7 == op.BPF_JMP32:
            self.err("BPF_CALL uses reserved fields", EINVAL)
        if self.state.refs:  # a held bpf_spin_lock allows no helper but bpf_spin_unlock
            locks.check_call(self, ins)
        if ins.src == op.BPF_PSEUDO_CALL:
            subprog.check_func_call(self, ins)
        elif ins.src == op.BPF_PSEUDO_KFUNC_CALL:
            kfuncs.check_kfunc_call(self, ins)
        elif ins.src != 0:
            raise NotModelled(f"call with src {ins.src}")
        else:
            calls.check_helper_call(self, ins)
        self.scratched_regs |= 1
        self.insn_idx += 1
        return False

    def _insn_ja(self, ins) -> bool:
        self.jmps_processed += 1
        cls = ins.code & 7
        if (ins.code & 8) or ins.src != 0 or ins.dst != 0 or (cls == op.BPF_JMP and ins.imm != 0) or \
                (cls == op.BPF_JMP32 and ins.off != 0):
            self.err("BPF_JA uses reserved fields", EINVAL)
        self.insn_idx += (ins.off if cls == op.BPF_JMP else ins.imm) + 1
        return False

    def _insn_exit(self, ins) -> bool:
        self.jmps_processed += 1
        if (ins.code & 8) or ins.imm != 0 or ins.src != 0 or ins.dst != 0 or ins.code & 7 == op.BPF_JMP32:
            self.err("BPF_EXIT uses reserved fields", EINVAL)
        return retval.check_exit(self)

    # ---- ALU ------------------------------------------------------------
    _ALU_STR = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"]

    def check_alu(self, ins) -> bool | None:
        code = ins.code
        o = code & 0xF0
        is64 = (code & 7) == op.BPF_ALU64
        x = code & 8
        if o in (op.BPF_END, op.BPF_NEG):
            if o == op.BPF_NEG:
                if x or ins.src != 0 or ins.off != 0 or ins.imm != 0:
                    self.err("BPF_NEG uses reserved fields", EINVAL)
            elif ins.src != 0 or ins.off != 0 or ins.imm not in (16, 32, 64) or (is64 and x):
                self.err("BPF_END uses reserved fields", EINVAL)
            d = self.check_reg_read(ins.dst)
            self.check_reg_write(ins.dst)
            if d.type != R.SCALAR:
                self.set_reg(ins.dst, R.scalar_unknown())
                return
            if o == op.BPF_NEG:
                s = sc.alu(o, d.s, d.s, is64)
            else:
                s = sc.byte_swap(d.s, ins.imm, is64, bool(x))
                if s is None:  # le64 on a little-endian machine: the register keeps its value and id
                    return
            self.set_reg(ins.dst, R.scalar_of(s))
            return
        if o == op.BPF_MOV:
            if x:
                if not is64:
                    if (ins.off not in (0, 8, 16)) or ins.imm:
                        self.err("BPF_MOV uses reserved fields", EINVAL)
                elif ins.off == op.BPF_ADDR_SPACE_CAST:
                    raise NotModelled("addr_space_cast")
                elif ins.off not in (0, 8, 16, 32) or ins.imm:
                    self.err("BPF_MOV uses reserved fields", EINVAL)
                src = self.check_reg_read(ins.src)
            else:
                if ins.src != 0 or ins.off != 0:
                    self.err("BPF_MOV uses reserved fields", EINVAL)
                src = None
            self.check_reg_write(ins.dst)
            if src is None:
                if is64:
                    self.set_reg(ins.dst, R.scalar_const(ins.imm))
                else:
                    self.set_reg(ins.dst, R.scalar_const(ins.imm & 0xFFFFFFFF))
                return
            memory.mov_reg(self, ins, src, is64)
            return
        if o > op.BPF_END:
            self.err(f"invalid BPF_ALU opcode {o:x}", EINVAL)
        if x:
            if ins.imm != 0 or ins.off not in (0, 1) or (ins.off == 1 and o not in (op.BPF_MOD, op.BPF_DIV)):
                self.err("BPF_ALU uses reserved fields", EINVAL)
            src = self.check_reg_read(ins.src)
        else:
            if ins.src != 0 or ins.off not in (0, 1) or (ins.off == 1 and o not in (op.BPF_MOD, op.BPF_DIV)):
                self.err("BPF_ALU uses reserved fields", EINVAL)
            src = None
        d = self.check_reg_read(ins.dst)
        if o in (op.BPF_MOD, op.BPF_DIV) and not x and ins.imm == 0:
            self.err("div by zero", EINVAL)
        if o in (op.BPF_LSH, op.BPF_RSH, op.BPF_ARSH) and not x:
            bits = 64 if is64 else 32
            if ins.imm < 0 or ins.imm >= bits:
                self.err(f"invalid shift {ins.imm}", EINVAL)
        self.check_reg_write(ins.dst)
        alu_s = self._ALU_STR[o >> 4]
        if src is not None and src.type != R.SCALAR:
            if d.type != R.SCALAR:
                if o == op.BPF_SUB:
                    self.set_reg(ins.dst, R.scalar_unknown())
                    return
                self.err(f"R{ins.dst} pointer {alu_s} pointer prohibited")
            memory.mark_precise(self, ins.dst)
            memory.adjust_ptr(self, ins, src, d, dst_is_off=True)
            return
        if d.type != R.SCALAR:
            if src is not None:
                memory.mark_precise(self, ins.src)
            memory.adjust_ptr(self, ins, d, src if src is not None else R.scalar_const(ins.imm))
            return
        if src is not None and d.precise:
            memory.mark_precise(self, ins.src)  # a precise destination needs a precise source
        return self._scalar_op(ins, o, d, src, src.s if src is not None else sc.Scalar.const(ins.imm), is64)

    def _scalar_op(self, ins, o: int, d, src, ss, is64: bool) -> bool:
        """``d op= ss`` for a scalar destination (``src``: the source register, None for an
        immediate); True when the result is a known value (it needs no invariant check)."""
        if o == op.BPF_AND or o == op.BPF_OR:  # the kernel may split the path first
            split = sc.fork_split(o, d.s, ss, is64)
            if split is not None:
                d = fork_scalars(self, ins, d, split)
        res = sc.alu(o, d.s, ss, is64, signed=ins.off == 1)
        self.set_reg(ins.dst, links.after_scalar_alu(self, ins, d, src, res))
        return not res[0][1] and sc.is_known(res)

    # ---- ld_imm64 -------------------------------------------------------
    def check_ld_imm64(self, ins) -> None:
        if ins.code & 0x18 != op.BPF_DW:
            self.err("invalid BPF_LD_IMM insn", EINVAL)
        if ins.off != 0:
            self.err("BPF_LD_IMM64 uses reserved fields", EINVAL)
        self.check_reg_write(ins.dst)
        nx = self.insns[self.insn_idx + 1]
        if ins.src == 0:
            v = (ins.imm & 0xFFFFFFFF) | ((nx.imm & 0xFFFFFFFF) << 32)
            self.set_reg(ins.dst, R.scalar_const(v))
            return
        if ins.src in (op.BPF_PSEUDO_MAP_FD, op.BPF_PSEUDO_MAP_IDX):
            m = self.maps[ins.imm]
            self.set_reg(ins.dst, R.pointer(R.CONST_PTR_TO_MAP, map=m))
            return
        if ins.src in (op.BPF_PSEUDO_MAP_VALUE, op.BPF_PSEUDO_MAP_IDX_VALUE):
            from .mapvalue import direct_ref_reg

            self.set_reg(ins.dst, direct_ref_reg(self.maps[ins.imm], nx.imm))
            return
        if ins.src == op.BPF_PSEUDO_FUNC:
            if self.func_btf is None:
                self.err("missing btf func_info", EINVAL)
            sub = self.cfg.subprog_starts.index(self.insn_idx + ins.imm + 1)
            if self.func_btf[sub].linkage:
                self.err("callback function not static", EINVAL)
            self.set_reg(ins.dst, R.pointer(R.PTR_TO_FUNC, range=sub))  # range holds the subprogram
            return
        raise NotModelled(f"ld_imm64 with src {ins.src}")

    # ---- memory ---------------------------------------------------------
    def check_mem_access(self, regno: int, off: int, size: int, write: bool, value_regno: int, ins, is_sx,
                         strict_once: bool = False) -> None:
        st = self.state
        reg = st.frames[st.curframe].regs[regno]
        t = reg.type
        b = t & R.BASE_MASK
        if (self.strict_alignment or strict_once) and size != 1 and t != R.PTR_TO_STACK:
            memory.check_ptr_alignment(self, reg, off, size)
        if t == R.PTR_TO_STACK:
            memory.check_stack_access(self, reg, regno, off, size, write, value_regno, ins)
        elif b == R.PTR_TO_PACKET or b == R.PTR_TO_PACKET_META:  # R.is_pkt_pointer(t)
            packet.mem_access(self, reg, regno, off + reg.off, size, write, value_regno)
        elif t == R.PTR_TO_CTX:
            if reg.off < 0:
                self.err(f"negative offset ctx ptr R{regno} off={reg.off} disallowed")
            if reg.off:
                self.err(f"dereference of modified ctx ptr R{regno} off={reg.off} disallowed")
            if reg.s.var_off.mask or reg.s.var_off.value:
                self.err(f"variable ctx access var_off={memory._tnum_str(reg.s.var_off)} disallowed")
            if self.tracepoint is not None:
                rt = tracing_ctx.ctx_access(self, btf_access.kernel_btf(self), self.tracepoint, off, size, write)
                if type(rt) is tuple:
                    rt = ctxm.BtfCtxField(rt)
            else:
                rt = ctxm.check_ctx_access(self.prog.prog_type, self.prog.expected_attach_type, off, size, write)
            if rt is ctxm.NOT_MODELLED:
                raise NotModelled("this context field")
            if rt is None:
                self.err(f"invalid bpf_context access off={off} size={size}")
            if not write and value_regno >= 0:
                if type(rt) is ctxm.BtfCtxField:
                    btf_access.mark_ctx_btf_reg(self, value_regno, rt[0], rt[1])
                elif rt == R.SCALAR:
                    self.set_reg(value_regno, R.scalar_unknown())
                elif rt in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_PACKET_END, R.PTR_TO_TP_BUFFER,
                            R.PTR_TO_FLOW_KEYS):
                    self.set_reg(value_regno, R.pointer(rt))
                elif R.base_type(rt) in (R.PTR_TO_SOCKET, R.PTR_TO_SOCK_COMMON):
                    r = R.pointer(rt)
                    if rt & R.PTR_MAYBE_NULL:
                        self.id_gen += 1
                        r = r.replace(id=self.id_gen)
                    self.set_reg(value_regno, r)
                else:
                    raise NotModelled(f"context field of type {R.type_str(rt)}")
        elif b == R.PTR_TO_MAP_VALUE and not (t & R.PTR_MAYBE_NULL):
            memory.map_value_access(self, reg, regno, reg.off + off, size, write, value_regno, is_sx)
        elif b == R.PTR_TO_MEM:
            memory.mem_access(self, reg, regno, reg.off + off, size, write, value_regno)
        elif t == R.CONST_PTR_TO_MAP:
            memory.map_ptr_access(self, reg, regno, reg.off + off, size, write, value_regno)
        elif t == R.PTR_TO_TP_BUFFER:
            memory.tp_buffer_access(self, reg, regno, reg.off + off, size, write, value_regno)
        elif t == R.PTR_TO_FLOW_KEYS:
            memory.flow_keys_access(self, reg.off + off, size, write, value_regno)
        elif b == R.PTR_TO_BTF_ID and not t & R.PTR_MAYBE_NULL:
            btf_access.check_ptr_to_btf_access(self, reg, regno, reg.off + off, size, write, value_regno)
        elif t == R.SCALAR or t & R.PTR_MAYBE_NULL or b in (R.CONST_PTR_TO_MAP, R.PTR_TO_PACKET_END):
            self.err(f"R{regno} invalid mem access '{R.type_str(t)}'")
        elif t in (R.PTR_TO_SOCKET, R.PTR_TO_SOCK_COMMON, R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK):
            ctxm.check_sock_access(self, reg, regno, off, size, write, value_regno)
        else:
            raise NotModelled(f"memory access through {R.type_str(t)}")
        if not write and value_regno >= 0 and size < 8:
            st = self.state
            r = st.frames[st.curframe].regs[value_regno]
            if r.type == R.SCALAR:
                if r is _UNKNOWN_REG:  # a load of an unknown (a context field, ...): one shared register per width
                    nr = _UNKNOWN_LOADED.get((size, is_sx))
                    if nr is None:
                        s = sc.coerce_to_size_sx(r.s, size) if is_sx else sc.coerce_to_size(r.s, size)
                        nr = _UNKNOWN_LOADED[(size, is_sx)] = r.replace(s=s)
                    self.set_reg(value_regno, nr)
                    return
                s = sc.coerce_to_size_sx(r.s, size) if is_sx else sc.coerce_to_size(r.s, size)
                self.set_reg(value_regno, r.replace(s=s))

    # ---- jumps ----------------------------------------------------------
    def _insn_jcc(self, ins) -> None:
        """A conditional jump (the kernel's check_cond_jmp_op): the path goes on (None, which the
        exploration loop reads as not ended) at the instruction chosen or pushed."""
        self.jmps_processed += 1
        o = ins.code & 0xF0
        if o == op.BPF_JA or o > op.BPF_JCOND:
            self.err(f"invalid BPF_JMP/JMP32 opcode {o:x}", EINVAL)
        if o == op.BPF_JCOND:
            if ins.src != 0 or ins.dst != 0 or ins.imm != 0 or (ins.code & 7) != op.BPF_JMP:
                raise NotModelled("malformed may_goto")
            from . import prune

            prune.check_may_goto(self, ins)
            return
        d = self.check_reg_read(ins.dst)
        if ins.code & 8:
            if ins.imm != 0:
                self.err("BPF_JMP/JMP32 uses reserved fields", EINVAL)
            s = self.check_reg_read(ins.src)
        else:
            if ins.src != 0:
                self.err("BPF_JMP/JMP32 uses reserved fields", EINVAL)
            s = R.scalar_const(ins.imm)
        is32 = (ins.code & 7) == op.BPF_JMP32
        hflags = precision.INSN_F_DST_REG_STACK if d.type == R.PTR_TO_STACK else 0
        if ins.code & 8 and s.type == R.PTR_TO_STACK:
            hflags |= precision.INSN_F_SRC_REG_STACK
        if hflags:
            precision.push_jmp_history(self, self.state, hflags)
        if d.type == R.SCALAR and s.type == R.SCALAR:
            pred = sc.branch_taken(d.s, s.s, o, is32)
        else:
            pred = ptrcmp.branch_taken(d, s, o, is32)
        if pred >= 0:
            if d.type == R.SCALAR:
                memory.mark_precise(self, ins.dst)
            if ins.code & 8 and s.type == R.SCALAR:
                memory.mark_precise(self, ins.src)
            if self.log.level1:
                self.print_insn_state()
            if pred == 1:
                self.insn_idx += ins.off + 1
            else:
                self.insn_idx += 1
            return
        linked = []
        if ins.code & 8 and s.type == R.SCALAR and s.id:
            links.collect(self, self.state, s.id, linked)
        if d.type == R.SCALAR and d.id:
            links.collect(self, self.state, d.id, linked)
        if len(linked) > 1:
            precision.push_jmp_history(self, self.state, 0, links.pack(linked))
        st = self.state
        regs = st.frames[st.curframe].regs
        d = regs[ins.dst]  # collect may have taken the id of an operand (too many links)
        if ins.code & 8:
            s = regs[ins.src]
        other = st.copy()
        self.push_stack(self.insn_idx + ins.off + 1, self.insn_idx, other)
        oregs = other.frames[other.curframe].regs
        if d.type == R.SCALAR and s.type == R.SCALAR:
            set_min_max(self, ins, d, s, o, is32, regs, oregs)
        cf = self.state.curframe
        if ins.code & 8 and s.type == R.SCALAR and s.id:
            links.sync(self, self.state, regs[ins.src], (cf, True, ins.src), linked)
            links.sync(self, other, oregs[ins.src], (cf, True, ins.src), linked)
        if d.type == R.SCALAR and d.id:
            links.sync(self, self.state, regs[ins.dst], (cf, True, ins.dst), linked)
            links.sync(self, other, oregs[ins.dst], (cf, True, ins.dst), linked)
        if not is32 and ins.code & 8 and d.type != R.SCALAR and s.type != R.SCALAR and \
                bool(d.type & R.PTR_MAYBE_NULL) != bool(s.type & R.PTR_MAYBE_NULL) and \
                R.base_type(d.type) != R.PTR_TO_BTF_ID and R.base_type(s.type) != R.PTR_TO_BTF_ID and \
                o in (op.BPF_JEQ, op.BPF_JNE):
            memory.null_from_pointer_compare(self, ins, d, s, regs if o == op.BPF_JNE else oregs)
        if not is32 and not (ins.code & 8) and ins.imm == 0 and o in (op.BPF_JEQ, op.BPF_JNE) and \
                d.type & R.PTR_MAYBE_NULL:
            self._mark_ptr_or_null(self.state, d.id, o == op.BPF_JNE)
            self._mark_ptr_or_null(other, d.id, o == op.BPF_JEQ)
        elif ins.code & 8:
            ptrcmp.try_match(ins, d, s, self.state, other)
        elif d.type != R.SCALAR:
            pass
        if self.log.level1:
            self.print_insn_state()
        self.insn_idx += 1

    def _mark_ptr_or_null(self, st, id_: int, is_null: bool) -> None:
        maybe_null = R.PTR_MAYBE_NULL
        for f in st.frames:
            # new lists only where a register or spill changes (the lists are the frame's own)
            regs = f.regs
            new = None
            for i, r in enumerate(regs):
                if r is not None and r.type & maybe_null and r.id == id_:
                    if new is None:
                        new = regs[:]
                    new[i] = R.scalar_const(0) if is_null else not_null_reg(r)
            if new is not None:
                f.regs = new
            stack = f.stack
            new = None
            for i, slot in enumerate(stack):
                r = slot.spilled
                if r is not None and r.type & maybe_null and r.id == id_:
                    if new is None:
                        new = stack[:]
                    new[i] = Slot(slot.types, R.scalar_const(0) if is_null else not_null_reg(r))
            if new is not None:
                f.stack = new
        if st.refs:
            on_null_check(st, id_, is_null)


def _kfunc_names(imm: int) -> dict[int, str]:
    """The name a kfunc call's text gives BTF id ``imm`` (format_line's ``kfuncs``)."""
    from .kfuncs import name_of

    name = name_of(imm) if imm else ""  # BTF id 0 is void, which has no name
    return {imm: name if name is not None else "kernel-function"}


def _handler(code: int):
    """The ``_Verifier`` method that checks an instruction of opcode ``code``: by its class, and
    for the jump classes by its operation (a conditional jump for any other)."""
    by_class = {op.BPF_ALU: _Verifier._insn_alu, op.BPF_ALU64: _Verifier._insn_alu, op.BPF_LDX: _Verifier._insn_ldx,
                op.BPF_STX: _Verifier._insn_stx, op.BPF_ST: _Verifier._insn_st, op.BPF_LD: _Verifier._insn_ld}
    h = by_class.get(code & 7)
    if h is not None:
        return h
    by_jump_op = {op.BPF_CALL: _Verifier._insn_call, op.BPF_JA: _Verifier._insn_ja, op.BPF_EXIT: _Verifier._insn_exit}
    return by_jump_op.get(code & 0xF0, _Verifier._insn_jcc)


_HANDLERS = tuple(_handler(c) for c in range(256))
# the opcodes whose instruction may write the stack (stores, atomics, calls: helpers and kfuncs
# write into stack arguments, iterators into their slots); the stack liveness records the write
# marks of these only: every other instruction's must-write mask is empty on every visit
_MAY_WRITE_STACK = tuple(c & 7 in (op.BPF_ST, op.BPF_STX) or
                         (c & 7 in (op.BPF_JMP, op.BPF_JMP32) and c & 0xF0 == op.BPF_CALL) for c in range(256))
_NOT_INIT6 = [R.NOT_INIT_REG] * 6
_UNKNOWN_REG = R.scalar_unknown()
_UNKNOWN_LOADED: dict[tuple[int, bool], object] = {}  # an unknown loaded with (size, sign extension)
# ALU ops with an immediate that check_alu's short path takes: add, sub, mul, or, and, lsh, rsh, xor, arsh
_ALU_IMM_SHORT = frozenset({0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xC0})
_IDX_PREFIX = tuple(f"{i}: " for i in range(4096))  # "<idx>: " of an instruction's log line


