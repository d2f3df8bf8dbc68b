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

EINVAL = 22
EACCES = 13
E2BIG = 7
COMPLEXITY_LIMIT_INSNS = 1_000_000


class Reject(Exception):
    def __init__(self, errno: int, msg: str | None = None):
        super().__init__(msg)
        self.errno = errno
        self.msg = msg


class NotModelled(Exception):
    pass


def verify(program: Program, log_level: int = 2) -> Result:
    """Verify ``program`` as the 6.18 kernel would (privileged). Never raises."""
    t0 = time.perf_counter()
    res = Result(program_id=program.id, verifier=VERIFIER_NAME, verdict=ERROR, log_level=log_level)
    try:
        from .log import Log

        log = Log(log_level)
        v = _Verifier(program, log)
        v.run()
        res.verdict = v.verdict
        res.errno = v.errno
        res.log = log.text()
        res.insns_processed = v.insn_processed
        res.total_states = v.total_states
        res.peak_states = v.peak_states
        res.max_states_per_insn = v.max_states_per_insn
        res.mark_read = 0
        res.stack_depth = [v.stack_depth]
        if v.not_modelled:
            res.verdict = ERROR
            res.message = NOT_MODELLED + v.not_modelled
        elif v.verdict == REJECT:
            res.message = v.reject_msg or ""
    except Exception as e:  # an internal failure is a tool error, never a verdict
        res.verdict = ERROR
        res.message = f"internal error: {type(e).__name__}: {e} ({traceback.extract_tb(e.__traceback__)[-1].lineno})"
    res.verify_us = [(time.perf_counter() - t0) * 1e6]
    return res


class _Verifier:
    def __init__(self, program: Program, log):
        from . import cfg as cfgm
        from . import disasm
        from .maps import MapInfo

        self.prog = program
        self.log = log
        self.insns = decode(program.insns)
        self.maps = [MapInfo.from_spec(i, m) for i, m in enumerate(program.maps)]
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
    def run(self) -> None:
        from .log import LOG_STATS

        log = self.log
        try:
            self._check()
            self.verdict = ACCEPT
            self.errno = None
        except self.cfgm.CfgError as e:
            log.write(e.msg + "\n")
            self.errno = e.errno
            self.reject_msg = e.msg
        except (self.cfgm.NotModelled, NotModelled) as e:
            self.not_modelled = str(e)
            return
        except Reject as e:
            self.errno = e.errno
            self.reject_msg = e.msg
        if self.verdict == ACCEPT and log.level1 and not log.level2:
            log.reset(0)
        if log.level & LOG_STATS:
            log.write("verification time 0 usec\n")
            log.write(f"stack depth {self.stack_depth}\n")
        log.write(
            f"processed {self.insn_processed} insns (limit {COMPLEXITY_LIMIT_INSNS}) max_states_per_insn "
            f"{self.max_states_per_insn} total_states {self.total_states} peak_states {self.peak_states} "
            f"mark_read 0\n"
        )

    def err(self, msg: str, errno: int = EACCES):
        self.log.write(msg + "\n")
        raise Reject(errno, msg)

    def _fmt_insn(self, idx: int) -> str:
        return self.disasm.format_line(self.insns, idx)

    def _call_params(self, ins) -> int | None:
        from .helpers import num_params

        if ins.src != 0:
            return None
        return num_params(ins.imm, self.prog.prog_type)

    def _check(self) -> None:
        from . import ctx as ctxm
        from .stack import StackLiveness
        from .state import initial_state

        if not ctxm.supported(self.prog.prog_type):
            raise NotModelled(f"program type {self.prog.prog_type}")
        if self.prog.prog_flags:
            raise NotModelled(f"prog_flags {self.prog.prog_flags:#x}")
        self.cfg = self.cfgm.analyse(self.insns, len(self.maps), self.log, self._call_params, self._fmt_insn)
        self.succ = {i: self.cfgm.successors(self.insns, i) for i in self.cfg.postorder}
        self.live = StackLiveness(len(self.insns))
        self.state = initial_state()
        self.scratch_all()
        self.do_check()

    # ---- scratch marks / state printing -----------------------------------
    def scratch_all(self) -> None:
        self.scratched_regs = 0x7FF
        self.scratched_stack = -1

    def print_state(self, st, print_all: bool) -> None:
        from .log import fmt_snum
        from .stack import STACK_INVALID, STACK_SPILL

        f = st.cur
        out = []
        for i, r in enumerate(f.regs):
            if r.type == 0:
                continue
            if not print_all and not (self.scratched_regs >> i) & 1:
                continue
            out.append(f" R{i}={self.fmt_reg(r)}")
        for spi, slot in enumerate(f.stack):
            if not print_all and not (self.scratched_stack >> spi) & 1:
                continue
            if all(t == STACK_INVALID for t in slot.types):
                continue
            if slot.types[7] == STACK_SPILL:
                j = 0
                while j < 8 and slot.types[j] != STACK_SPILL:
                    j += 1
                out.append(f" fp{-(spi + 1) * 8}={slot.chars()[:j]}{self.fmt_reg(slot.spilled)}")
            else:
                out.append(f" fp{-(spi + 1) * 8}={slot.chars()}")
        self.log.write("".join(out) + "\n")
        if not print_all:
            self.scratched_regs = 0
            self.scratched_stack = 0
        _ = fmt_snum

    def print_insn_state(self) -> None:
        from .log import vlog_alignment

        log = self.log
        if self.prev_log_pos and self.prev_log_pos == log.end_pos:
            log.reset(self.prev_log_pos - 1)
            log.write(" " * vlog_alignment(self.prev_insn_print_pos) + ";")
        else:
            log.write(f"{self.insn_idx}:")
        self.print_state(self.state, False)

    def fmt_reg(self, r) -> str:
        from . import regs as R
        from . import scalar as sc
        from .log import fmt_ranges, fmt_snum, fmt_tnum, fmt_unum

        t = r.type
        if t == R.SCALAR:
            return sc.format(r.s, r.id, None, r.precise)
        vo = r.s.var_off
        name = R.type_str(t)
        if t == R.PTR_TO_STACK and not vo.mask:
            return name + fmt_snum(vo.value + r.off)
        parts = []
        if r.id:
            parts.append(f"id={r.id}")
        if r.ref_obj_id:
            parts.append(f"ref_obj_id={r.ref_obj_id}")
        if R.is_map_ptr_type(t) and r.map is not None:
            if r.map.name:
                parts.append(f"map={r.map.name}")
            parts.append(f"ks={r.map.key_size},vs={r.map.value_size}")
        if r.off:
            parts.append("off=" + fmt_snum(r.off))
        if R.is_pkt_pointer(t):
            parts.append("r=" + fmt_unum(r.range))
        if R.base_type(t) == R.PTR_TO_MEM:
            parts.append("sz=" + fmt_unum(r.mem_size))
        if not vo.mask:
            if vo.value:
                parts.append("imm=" + fmt_snum(vo.value))
        else:
            s = r.s
            parts.extend(fmt_ranges(s.smin, s.smax, s.umin, s.umax, s.s32_min, s.s32_max, s.u32_min, s.u32_max))
            if vo.mask != (1 << 64) - 1:
                parts.append("var_off=" + fmt_tnum(vo.value, vo.mask))
        return f"{name}({','.join(parts)})"

    # ---- main loop ------------------------------------------------------
    def do_check(self) -> None:
        log = self.log
        insns = self.insns
        n = len(insns)
        self.insn_idx = 0
        prev_insn_idx = -1
        do_print_state = False
        prune = self.cfg.prune_points
        while True:
            idx = self.insn_idx
            if idx >= n:
                self.err(f"invalid insn idx {idx} insn_cnt {n}", 14)
            self.insn_processed += 1
            if self.insn_processed > COMPLEXITY_LIMIT_INSNS:
                self.err(f"BPF program is too large. Processed {self.insn_processed} insn", E2BIG)
            if idx in prune:
                if self.is_state_visited(idx):
                    raise NotModelled("state pruning (is_state_visited found an equivalent state)")
            if log.level2 and do_print_state:
                log.write(f"\nfrom {prev_insn_idx} to {idx}:")
                self.print_state(self.state, True)
                do_print_state = False
            if log.level1:
                if self.scratched_regs or self.scratched_stack:
                    self.print_insn_state()
                self.prev_log_pos = log.end_pos
                log.write(f"{idx}: {self._fmt_insn(idx)}\n")
                self.prev_insn_print_pos = log.end_pos - self.prev_log_pos
                self.prev_log_pos = log.end_pos
            prev_insn_idx = idx
            self.live.reset_write_marks(idx)
            exited = self.do_check_insn(insns[idx])
            self.live.commit_write_marks()
            if exited:
                self.scratch_all()
                self.live.update(log, self.succ, self.cfg.postorder, prune)
                if not self.stack:
                    return
                st, self.insn_idx, prev_insn_idx, log_pos = self.stack.pop()
                if not log.level2:
                    log.reset(log_pos)
                self.state = st
                do_print_state = True

    def is_state_visited(self, idx: int) -> bool:
        lst = self.explored.get(idx)
        if lst:
            return True  # a candidate exists: comparison is not modelled yet
        add = False
        if self.jmps_processed - self.prev_jmps_processed >= 2 and \
                self.insn_processed - self.prev_insn_processed >= 8:
            add = True
        if idx in self.cfg.force_checkpoints:
            add = True
        if not add:
            return False
        self.explored.setdefault(idx, []).append(self.state.copy())
        self.total_states += 1
        self.peak_states = max(self.peak_states, sum(len(v) for v in self.explored.values()))
        self.prev_jmps_processed = self.jmps_processed
        self.prev_insn_processed = self.insn_processed
        return False

    def push_stack(self, target: int, prev: int, st) -> None:
        self.stack.append((st, target, prev, self.log.end_pos))
        if len(self.stack) > 8192:
            self.err(f"The sequence of {len(self.stack)} jumps is too complex.", E2BIG)

    # ---- registers ------------------------------------------------------
    def check_reg_read(self, regno: int):
        self.scratched_regs |= 1 << regno
        r = self.state.cur.regs[regno]
        if r.type == 0:
            self.err(f"R{regno} !read_ok")
        return r

    def check_reg_write(self, regno: int) -> None:
        self.scratched_regs |= 1 << regno
        if regno == 10:
            self.err("frame pointer is read only")

    def set_reg(self, regno: int, r) -> None:
        self.state.cur.regs[regno] = r

    def do_check_insn(self, ins) -> bool:
        cls = ins.code & 7
        if cls in (op.BPF_ALU, op.BPF_ALU64):
            self.check_alu(ins)
            self.insn_idx += 1
            return False
        if cls == op.BPF_LDX:
            self.check_ldx(ins)
            self.insn_idx += 1
            return False
        if cls == op.BPF_STX:
            if ins.code & 0xE0 == op.BPF_ATOMIC:
                raise NotModelled("atomic instructions")
            if ins.code & 0xE0 != op.BPF_MEM or ins.imm != 0:
                self.err("BPF_STX uses reserved fields", EINVAL)
            self.check_reg_read(ins.src)
            self.check_reg_read(ins.dst)
            self.check_mem_access(ins.dst, ins.off, op.SIZE_BYTES[ins.code & 0x18], True, ins.src, ins, False)
            self.insn_idx += 1
            return False
        if cls == op.BPF_ST:
            if ins.code & 0xE0 != op.BPF_MEM or ins.src != 0:
                self.err("BPF_ST uses reserved fields", EINVAL)
            self.check_reg_read(ins.dst)
            self.check_mem_access(ins.dst, ins.off, op.SIZE_BYTES[ins.code & 0x18], True, -1, ins, False)
            self.insn_idx += 1
            return False
        if cls == op.BPF_LD:
            if ins.code == op.LD_IMM64:
                self.check_ld_imm64(ins)
                self.insn_idx += 2
                return False
            raise NotModelled("legacy packet loads (LD_ABS/LD_IND)")
        # jumps
        o = ins.code & 0xF0
        self.jmps_processed += 1
        if o == op.BPF_CALL:
            if (ins.code & 8) or (ins.src != 2 and ins.off != 0) or ins.src not in (0, 1, 2) or ins.dst != 0 or \
                    cls == op.BPF_JMP32:
                self.err("BPF_CALL uses reserved fields", EINVAL)
            if ins.src != 0:
                raise NotModelled("bpf-to-bpf and kfunc calls")
            self.check_helper_call(ins)
            self.scratched_regs |= 1
            self.insn_idx += 1
            return False
        if o == op.BPF_JA:
            if (ins.code & 8) or ins.src != 0 or ins.dst != 0 or (cls == op.BPF_JMP and ins.imm != 0) or \
                    (cls == op.BPF_JMP32 and ins.off != 0):
                self.err("BPF_JA uses reserved fields", EINVAL)
            self.insn_idx += (ins.off if cls == op.BPF_JMP else ins.imm) + 1
            return False
        if o == op.BPF_EXIT:
            if (ins.code & 8) or ins.imm != 0 or ins.src != 0 or ins.dst != 0 or cls == op.BPF_JMP32:
                self.err("BPF_EXIT uses reserved fields", EINVAL)
            self.check_exit()
            return True
        self.check_cond_jmp(ins)
        return False

    # ---- ALU ------------------------------------------------------------
    _ALU_STR = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"]

    def check_alu(self, ins) -> None:
        from . import regs as R
        from . import scalar as sc

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
                if s is None:
                    raise NotModelled("byte swap form")
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
            if ins.off:
                raise NotModelled("sign-extending mov")
            if is64:
                if src.type == R.SCALAR and not src.id and src.s.var_off.mask:
                    self.id_gen += 1
                    src = src.replace(id=self.id_gen)
                    self.set_reg(ins.src, src)
                self.set_reg(ins.dst, src)
                return
            if src.type != R.SCALAR:
                self.set_reg(ins.dst, R.scalar_unknown())
                return
            if src.s.var_off.mask:
                raise NotModelled("32-bit mov of a non-constant scalar (id links)")
            self.set_reg(ins.dst, R.scalar_of(sc.mov32(src.s)))
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
            raise NotModelled("scalar += pointer (precision tracking)")
        if d.type != R.SCALAR:
            if src is not None:
                raise NotModelled("pointer += register (precision tracking)")
            self.adjust_ptr(ins, d, R.scalar_const(ins.imm), alu_s, is64)
            return
        if src is not None and d.precise:
            raise NotModelled("precision propagation")
        ss = src.s if src is not None else sc.Scalar.const(ins.imm)
        self.set_reg(ins.dst, R.scalar_of(sc.alu(o, d.s, ss, is64, signed=ins.off == 1)))

    def adjust_ptr(self, ins, ptr, off_reg, alu_s: str, is64: bool) -> None:
        from . import regs as R

        dst = ins.dst
        o = ins.code & 0xF0
        t = ptr.type
        if not is64:
            if o == op.BPF_SUB:
                self.set_reg(dst, R.scalar_unknown())
                return
            self.err(f"R{dst} 32-bit pointer arithmetic prohibited")
        if t & R.PTR_MAYBE_NULL:
            self.err(f"R{dst} pointer arithmetic on {R.type_str(t)} prohibited, null-check it first")
        b = R.base_type(t)
        val = off_reg.s.smin
        if b in (R.PTR_TO_CTX, R.PTR_TO_MAP_VALUE, R.PTR_TO_MAP_KEY, R.PTR_TO_STACK, R.PTR_TO_PACKET_META,
                 R.PTR_TO_PACKET, R.PTR_TO_TP_BUFFER, R.PTR_TO_BTF_ID, R.PTR_TO_MEM, R.PTR_TO_BUF, R.PTR_TO_FUNC,
                 R.CONST_PTR_TO_DYNPTR):
            pass
        elif b == R.PTR_TO_FLOW_KEYS:
            pass
        elif b == R.CONST_PTR_TO_MAP and val == 0 and o == op.BPF_ADD:
            pass
        else:
            self.err(f"R{dst} pointer arithmetic on {R.type_str(t)} prohibited")
        if ptr.s.var_off.mask:
            raise NotModelled("pointer with a variable offset")
        if o == op.BPF_ADD:
            new_off = ptr.off + val
        elif o == op.BPF_SUB:
            if b == R.PTR_TO_STACK:
                self.err(f"R{dst} subtraction from stack pointer prohibited")
            new_off = ptr.off - val
        elif o in (op.BPF_AND, op.BPF_OR, op.BPF_XOR):
            self.err(f"R{dst} bitwise operator {alu_s} on pointer prohibited")
        else:
            self.err(f"R{dst} pointer arithmetic with {alu_s} operator prohibited")
        if not -(1 << 29) < new_off < (1 << 29):
            raise NotModelled("pointer offset beyond the kernel's limits")
        if R.is_pkt_pointer(t):
            raise NotModelled("packet pointer arithmetic")
        self.set_reg(dst, ptr.replace(off=new_off))
        if b == R.PTR_TO_STACK and not -512 <= new_off <= 0:
            pass

    # ---- ld_imm64 -------------------------------------------------------
    def check_ld_imm64(self, ins) -> None:
        from . import regs as R

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
        if ins.src == op.BPF_PSEUDO_MAP_FD:
            m = self.maps[ins.imm]
            self.set_reg(ins.dst, R.pointer(R.CONST_PTR_TO_MAP, map=m))
            return
        raise NotModelled(f"ld_imm64 with src {ins.src}")

    # ---- memory ---------------------------------------------------------
    def check_ldx(self, ins) -> None:
        self.check_reg_read(ins.src)
        self.check_reg_write(ins.dst)
        is_sx = (ins.code & 0xE0) == op.BPF_MEMSX
        self.check_mem_access(ins.src, ins.off, op.SIZE_BYTES[ins.code & 0x18], False, ins.dst, ins, is_sx)

    def check_mem_access(self, regno: int, off: int, size: int, write: bool, value_regno: int, ins, is_sx) -> None:
        from . import ctx as ctxm
        from . import regs as R
        from . import scalar as sc

        regs = self.state.cur.regs
        reg = regs[regno]
        t = reg.type
        b = R.base_type(t)
        if t == R.PTR_TO_STACK:
            self.check_stack_access(reg, regno, off, size, write, value_regno, ins)
        elif t == R.PTR_TO_CTX:
            if reg.off:
                self.err(f"dereference of modified ctx ptr R{regno} off={reg.off} disallowed")
            if reg.s.var_off.mask:
                raise NotModelled("variable ctx access")
            rt = ctxm.check_ctx_access(self.prog.prog_type, self.prog.expected_attach_type, off, size, write)
            if rt is ctxm.NOT_MODELLED:
                raise NotModelled("this context field")
            if rt is None:
                self.err(f"invalid bpf_context access off={off} size={size}")
            if not write and value_regno >= 0:
                if rt == R.SCALAR:
                    self.set_reg(value_regno, R.scalar_unknown())
                else:
                    raise NotModelled("packet pointers")
        elif b == R.PTR_TO_MAP_VALUE and not (t & R.PTR_MAYBE_NULL):
            if t & R.MEM_RDONLY:
                raise NotModelled("read-only map values")
            if reg.s.var_off.mask:
                raise NotModelled("variable offset map value access")
            vs = reg.map.value_size
            o = reg.off + off
            if not (o >= 0 and size > 0 and o + size <= vs):
                self.log.write(f"invalid access to map value, value_size={vs} off={o} size={size}\n")
                self.err(f"R{regno} min value is outside of the allowed memory range")
            if not write and value_regno >= 0:
                self.set_reg(value_regno, R.scalar_unknown())
        elif t == R.SCALAR or t & R.PTR_MAYBE_NULL or b in (R.CONST_PTR_TO_MAP, R.PTR_TO_PACKET_END):
            self.err(f"R{regno} invalid mem access '{R.type_str(t)}'")
        else:
            raise NotModelled(f"memory access through {R.type_str(t)}")
        if not write and value_regno >= 0 and size < 8:
            r = self.state.cur.regs[value_regno]
            if r.type == R.SCALAR:
                s = sc.coerce_to_size_sx(r.s, size) if is_sx else sc.coerce_to_size(r.s, size)
                self.set_reg(value_regno, r.replace(s=s))

    def check_stack_access(self, reg, regno, off, size, write, value_regno, ins) -> None:
        from . import regs as R
        from .stack import STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, Slot

        if reg.s.var_off.mask:
            raise NotModelled("variable offset stack access")
        o = reg.off + off + reg.s.var_off.value
        if o % size:
            self.err(f"misaligned stack access off {reg.s.var_off.value}+{reg.off}+{off} size {size}")
        if o < -512 or o + size > 0:
            word = "write to" if write else "read from"
            self.err(f"invalid {word} stack R{regno} off={o} size={size}")
        f = self.state.cur
        f.grow_stack(-o)
        alloc = ((-o) + 7) // 8 * 8
        if alloc > self.stack_depth:
            self.stack_depth = alloc
        slot_i = -o - 1
        spi = slot_i // 8
        self.scratched_stack |= 1 << spi
        cur = f.stack[spi]
        if write:
            vreg = self.state.cur.regs[value_regno] if value_regno >= 0 else None
            if o % 8 == 0 and size == 8:
                self.live.mark_write(1 << spi)
            if vreg is not None and o % 8 == 0 and vreg.type == R.SCALAR:
                self._spill(f, spi, vreg, size)
            elif vreg is None and o % 8 == 0 and (ins.code & 7) == op.BPF_ST:
                self._spill(f, spi, R.scalar_const(ins.imm), size)
            elif vreg is not None and vreg.type != R.SCALAR:
                if size != 8:
                    self.err("invalid size of register spill")
                self._spill(f, spi, vreg, 8)
            else:
                types = list(cur.types)
                if cur.types[7] == STACK_SPILL or any(t > STACK_ZERO for t in types):
                    types = [STACK_MISC if t in (STACK_SPILL,) or t > STACK_ZERO else t for t in types]
                zero = (vreg is not None and vreg.type == R.SCALAR and not vreg.s.var_off.mask and
                        vreg.s.var_off.value == 0) or (vreg is None and ins.imm == 0)
                kind = STACK_ZERO if zero else STACK_MISC
                for i in range(size):
                    types[(slot_i - i) % 8] = kind
                f.stack[spi] = Slot(tuple(types))
            return
        # read
        self.live.mark_read(self.insn_idx, 1 << spi)
        types = cur.types
        if types[7] == STACK_SPILL:
            spill_size = 1
            i = 7
            while i > 0 and types[i - 1] == STACK_SPILL:
                spill_size += 1
                i -= 1
            sp = cur.spilled
            if size != 8 or spill_size != 8:
                if sp.type != R.SCALAR:
                    self.err("invalid size of register fill")
                raise NotModelled("narrow stack fill")
            if value_regno >= 0:
                self.set_reg(value_regno, sp)
            return
        zeros = 0
        for i in range(size):
            t = types[(slot_i - i) % 8]
            if t == STACK_ZERO:
                zeros += 1
            elif t not in (STACK_MISC, STACK_INVALID):
                self.err(f"invalid read from stack off {o}+{i} size {size}")
        if value_regno >= 0:
            self.set_reg(value_regno, R.scalar_const(0) if zeros == size else R.scalar_unknown())

    def _spill(self, f, spi: int, reg, size: int) -> None:
        from .stack import STACK_MISC, STACK_SPILL, STACK_ZERO, Slot

        cur = f.stack[spi].types
        types = [STACK_SPILL] * 8
        for i in range(8 - size):
            t = cur[i]
            types[i] = t if t in (STACK_ZERO, 0) else STACK_MISC
        if size != 8:
            raise NotModelled("sub-register spill")
        f.stack[spi] = Slot(tuple(types), reg)

    # ---- jumps ----------------------------------------------------------
    def check_cond_jmp(self, ins) -> None:
        from . import regs as R
        from . import scalar as sc

        o = ins.code & 0xF0
        if o == op.BPF_JA or o > op.BPF_JCOND:
            self.err(f"invalid BPF_JMP/JMP32 opcode {o:x}", EINVAL)
        if o == op.BPF_JCOND:
            raise NotModelled("may_goto")
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
        if d.type == R.SCALAR and s.type == R.SCALAR:
            pred = sc.branch_taken(d.s, s.s, o, is32)
            if pred >= 0:
                raise NotModelled("precision tracking (branch outcome known)")
        elif d.type != R.SCALAR and s.type == R.SCALAR and not s.s.var_off.mask and not is32:
            pred = -1
            if s.s.var_off.value == 0 and self._not_null(d) and o in (op.BPF_JEQ, op.BPF_JNE):
                pred = 0 if o == op.BPF_JEQ else 1
            if pred >= 0:
                if self.log.level1:
                    self.print_insn_state()
                if pred == 1:
                    self.insn_idx += ins.off + 1
                else:
                    self.insn_idx += 1
                return
        elif d.type != R.SCALAR or s.type != R.SCALAR:
            raise NotModelled("comparison involving pointers")
        other = self.state.copy()
        self.push_stack(self.insn_idx + ins.off + 1, self.insn_idx, other)
        oregs = other.cur.regs
        regs = self.state.cur.regs
        if d.type == R.SCALAR and s.type == R.SCALAR:
            if ins.code & 8 and ins.src == ins.dst:
                pass
            else:
                if d.id or ((ins.code & 8) and s.id):
                    raise NotModelled("linked scalar registers (sync_linked_regs)")
                ft_d, ft_s = sc.refine(d.s, s.s, sc.negate_op(o), is32)
                tk_d, tk_s = sc.refine(d.s, s.s, o, is32)
                regs[ins.dst] = d.replace(s=ft_d)
                oregs[ins.dst] = d.replace(s=tk_d)
                if ins.code & 8:
                    regs[ins.src] = s.replace(s=ft_s)
                    oregs[ins.src] = s.replace(s=tk_s)
        elif not is32 and not (ins.code & 8) and ins.imm == 0 and o in (op.BPF_JEQ, op.BPF_JNE) and \
                d.type & R.PTR_MAYBE_NULL:
            self._mark_ptr_or_null(self.state, d.id, o == op.BPF_JNE)
            self._mark_ptr_or_null(other, d.id, o == op.BPF_JEQ)
        elif d.type != R.SCALAR:
            pass
        if self.log.level1:
            self.print_insn_state()
        self.insn_idx += 1

    @staticmethod
    def _not_null(r) -> bool:
        from . import regs as R

        if r.type & R.PTR_MAYBE_NULL:
            return False
        return R.base_type(r.type) in (R.PTR_TO_SOCKET, R.PTR_TO_TCP_SOCK, R.PTR_TO_MAP_VALUE, R.PTR_TO_MAP_KEY,
                                       R.PTR_TO_SOCK_COMMON, R.PTR_TO_MEM)

    def _mark_ptr_or_null(self, st, id_: int, is_null: bool) -> None:
        from . import regs as R
        from .stack import Slot

        def fix(r):
            if r is None or not (r.type & R.PTR_MAYBE_NULL) or r.id != id_:
                return r
            if is_null:
                return R.scalar_const(0)
            return r.replace(type=r.type & ~R.PTR_MAYBE_NULL, id=0)

        for f in st.frames:
            f.regs = [fix(r) for r in f.regs]
            f.stack = [Slot(s.types, fix(s.spilled)) if s.spilled is not None else s for s in f.stack]
        if st.refs and id_ in st.refs:
            raise NotModelled("references")

    # ---- calls / exit -----------------------------------------------------
    def check_helper_call(self, ins) -> None:
        from . import helpers as H
        from . import maps as M
        from . import regs as R
        from .helper_ids import HELPER_NAMES

        fid = ins.imm
        name = HELPER_NAMES.get(fid)
        if name is None:
            raise NotModelled(f"helper id {fid}")
        proto = H.PROTOS.get(fid)
        if proto is None or self.prog.prog_type not in H.ALLOWED.get(fid, ()):
            raise NotModelled(f"helper {name}#{fid} for this program type")
        if proto.gpl_only and not _gpl_compatible(self.prog.license):
            self.err("cannot call GPL-restricted function from non-GPL compatible program", EINVAL)
        regs = self.state.cur.regs
        mp = None
        for i, at in enumerate(proto.args):
            regno = i + 1
            r = self.check_reg_read(regno)
            if at == H.ARG_ANYTHING:
                continue
            if at == H.ARG_CONST_MAP_PTR:
                if r.type != R.CONST_PTR_TO_MAP:
                    raise NotModelled("helper argument type mismatch")
                mp = r.map
            elif at in (H.ARG_PTR_TO_MAP_KEY, H.ARG_PTR_TO_MAP_VALUE):
                if r.type != R.PTR_TO_STACK:
                    raise NotModelled("map key/value not on the stack")
                size = mp.key_size if at == H.ARG_PTR_TO_MAP_KEY else mp.value_size
                if at == H.ARG_PTR_TO_MAP_KEY and mp.type in (M.T["array"], M.T["percpu_array"]):
                    raise NotModelled("constant array map keys")
                self.check_stack_range(r, regno, size)
            elif at == H.ARG_PTR_TO_CTX:
                if r.type != R.PTR_TO_CTX:
                    raise NotModelled("helper argument type mismatch")
                if r.off:
                    self.err(f"dereference of modified ctx ptr R{regno} off={r.off} disallowed")
            else:
                raise NotModelled(f"helper argument kind {at} (needs precision tracking)")
        if fid in (1, 2, 3):
            ok = M.LOOKUP_VALUE_TYPES if fid == 1 else (M.UPDATE_TYPES if fid == 2 else M.DELETE_TYPES)
            if mp.type not in ok:
                raise NotModelled(f"{name} on this map type")
        if fid == 12:
            raise NotModelled("tail calls")
        for i in range(6):
            regs[i] = R.NOT_INIT_REG
            self.scratched_regs |= 1 << i
        if proto.ret == H.RET_INTEGER:
            regs[0] = R.scalar_unknown()
        elif proto.ret == H.RET_VOID:
            regs[0] = R.NOT_INIT_REG
        elif proto.ret == H.RET_PTR_TO_MAP_VALUE_OR_NULL:
            self.id_gen += 1
            regs[0] = R.pointer(R.PTR_TO_MAP_VALUE | R.PTR_MAYBE_NULL, map=mp, id=self.id_gen)
        else:
            raise NotModelled(f"return type of {name}")

    def check_stack_range(self, r, regno: int, size: int) -> None:
        from .stack import STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO

        if r.s.var_off.mask:
            raise NotModelled("variable offset stack pointer passed to a helper")
        o = r.off + r.s.var_off.value
        if o < -512 or o + size > 0 or size < 0:
            raise NotModelled("out-of-bounds helper stack access message")
        f = self.state.cur
        f.grow_stack(-o)
        alloc = ((-o) + 7) // 8 * 8
        if alloc > self.stack_depth:
            self.stack_depth = alloc
        marked = 0
        for i in range(o, o + size):
            slot_i = -i - 1
            spi = slot_i // 8
            t = f.stack[spi].types[slot_i % 8]
            if t in (STACK_MISC, STACK_ZERO, STACK_INVALID):
                pass
            elif f.stack[spi].types[7] == STACK_SPILL:
                pass
            else:
                raise NotModelled("helper read of a special stack slot")
            marked |= 1 << spi
        self.live.mark_read(self.insn_idx, marked)

    def check_exit(self) -> None:
        self.check_reg_read(0)
        if self.state.refs:
            raise NotModelled("references at exit")


def _gpl_compatible(lic: str) -> bool:
    return lic in ("GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL")
