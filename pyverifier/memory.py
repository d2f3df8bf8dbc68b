"""Pointer arithmetic, map value and stack accesses, with fixed and variable offsets.

The kernel's adjust_ptr_min_max_vals, check_reg_sane_offset,
check_mem_region_access (map values), and the stack: bounds, spills and fills
of whole and sub-registers, narrow fills, variable-offset reads and writes.
Also: strict-mode pointer alignment (check_ptr_alignment), the one-pointer-kind
rule per load/store instruction (save_aux_ptr_type), reads of the map structure
through a map pointer, null checks learnt by comparing two pointers, and legacy
LD_ABS/LD_IND. Map value rights and constants live in pyverifier.mapvalue.
The rules are those of a privileged loader (CAP_BPF + CAP_PERFMON): no
speculation sanitation, uninitialised stack readable, pointers may be
compared, spilled and stored anywhere.

All functions take the running verifier ``v`` (``pyverifier.verifier._Verifier``).
"""
from __future__ import annotations

from . import mapvalue, maps, precision, uapi
from . import regs as R
from . import scalar as sc
from . import tnum as tn
from .log import fmt_tnum
from .precision import stack_access_flags
from .refs import check_resource_leak, not_null_type
from .stack import (STACK_DYNPTR, STACK_INVALID, STACK_IRQ_FLAG, STACK_ITER, STACK_MISC, STACK_SPILL, STACK_ZERO,
                    Slot)

EINVAL = 22
EACCES = 13
EFAULT = 14
MAX_VAR_OFF = 1 << 29
S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1
MAX_BPF_STACK = 512

BPF_ADD, BPF_SUB, BPF_OR, BPF_AND, BPF_XOR = 0x00, 0x10, 0x40, 0x50, 0xA0
ALU_STR = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"]

_ARITH_OK = (R.PTR_TO_CTX, R.PTR_TO_MAP_VALUE, R.PTR_TO_MAP_KEY, R.PTR_TO_STACK, R.PTR_TO_PACKET_META,
             R.PTR_TO_PACKET, R.PTR_TO_TP_BUFFER, R.PTR_TO_BTF_ID, R.PTR_TO_MEM, R.PTR_TO_BUF, R.PTR_TO_FUNC,
             R.CONST_PTR_TO_DYNPTR)
_SPILLABLE = (R.PTR_TO_MAP_VALUE, R.PTR_TO_STACK, R.PTR_TO_CTX, R.PTR_TO_PACKET, R.PTR_TO_PACKET_META,
              R.PTR_TO_PACKET_END, R.PTR_TO_FLOW_KEYS, R.CONST_PTR_TO_MAP, R.PTR_TO_SOCKET, R.PTR_TO_SOCK_COMMON,
              R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK, R.PTR_TO_BTF_ID, R.PTR_TO_BUF, R.PTR_TO_MEM, R.PTR_TO_FUNC,
              R.PTR_TO_MAP_KEY, R.PTR_TO_ARENA)
_SPECIAL = (STACK_SPILL, STACK_DYNPTR, STACK_ITER, STACK_IRQ_FLAG)


def _nm(what: str):
    from .verifier import NotModelled

    return NotModelled(what)


# ---- precision ----
def mark_precise(v, regno: int) -> None:
    """mark_chain_precision(regno) where the kernel calls it."""
    if regno < 0:
        return  # the kernel's backtracking starts empty and returns at once
    precision.mark_chain_precision(v, regno)


# ---- scalar ids ------------------------------------------------------------
ADD_CONST64 = 1 << 31  # the kernel's BPF_ADD_CONST64 flag on an id (rX += K after rX = rY)
ADD_CONST32 = 1 << 30  # BPF_ADD_CONST32 (wX += K)
ADD_CONST = ADD_CONST64 | ADD_CONST32


def reg_width(r) -> int:
    return r.s.umax.bit_length()


def assign_id_before_mov(v, r):
    """assign_scalar_id_before_mov: the register (value) to keep in the source's place."""
    if r.type != R.SCALAR:
        return r
    if r.id & ADD_CONST:
        r = r.replace(id=0, off=0)
    if not r.id and r.s.var_off.mask:
        v.id_gen += 1
        r = r.replace(id=v.id_gen)
    return r


# ---- pointer arithmetic ----------------------------------------------------
def _sane_offset(v, reg, t: int) -> None:
    """check_reg_sane_offset: rejects (EINVAL) an offset the kernel refuses to track."""
    vo = reg.s.var_off
    if not vo.mask:
        val = vo.value - (1 << 64) if vo.value >> 63 else vo.value
        if val >= MAX_VAR_OFF or val <= -MAX_VAR_OFF:
            v.err(f"math between {R.type_str(t)} pointer and {val} is not allowed", EINVAL)
    if reg.off >= MAX_VAR_OFF or reg.off <= -MAX_VAR_OFF:
        v.err(f"{R.type_str(t)} pointer offset {reg.off} is not allowed", EINVAL)
    smin = reg.s.smin
    if smin == S64_MIN:
        v.err(f"math between {R.type_str(t)} pointer and register with unbounded min value is not allowed",
              EINVAL)
    if smin >= MAX_VAR_OFF or smin <= -MAX_VAR_OFF:
        v.err(f"value {smin} makes {R.type_str(t)} pointer be out of bounds", EINVAL)


def _s32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >> 31 else x


_WIDENED32 = object()  # adjust_ptr: the pointer's value with its 32-bit bounds widened


# pointer types (no flags: neither maybe-null nor untrusted) that adjust_ptr lets a constant move
_ADD_CONST_PLAIN = frozenset({R.PTR_TO_STACK, R.PTR_TO_MAP_VALUE, R.PTR_TO_MAP_KEY, R.PTR_TO_CTX, R.PTR_TO_MEM,
                              R.PTR_TO_PACKET, R.PTR_TO_PACKET_META})


def ptr_add_const(ptr, imm: int):
    """``adjust_ptr`` of a 64-bit ``ptr += imm`` where none of its checks can fail: a pointer of a
    plain type in ``_ADD_CONST_PLAIN`` whose variable part is the constant 0, and fixed offsets
    well inside what ``_sane_offset`` accepts. The constant goes into the fixed offset; the
    id, range and variable part stay. None when the case is not that one (``adjust_ptr`` judges)."""
    if ptr.s is not R.ZERO_S or ptr.type not in _ADD_CONST_PLAIN:
        return None
    noff = ptr.off + imm
    if not (-MAX_VAR_OFF < imm < MAX_VAR_OFF and -MAX_VAR_OFF < ptr.off < MAX_VAR_OFF
            and -MAX_VAR_OFF < noff < MAX_VAR_OFF):
        return None
    return ptr.with_off(noff)


def adjust_ptr(v, ins, ptr, off_reg, dst_is_off: bool = False) -> None:
    """adjust_ptr_min_max_vals: ``dst = ptr (op) off_reg`` (``dst_is_off``: scalar += pointer)."""
    dst = ins.dst
    o = ins.code & 0xF0
    t = ptr.type
    b = R.base_type(t)
    os_ = off_reg.s
    known = not os_.var_off.mask
    smin_val, smax_val, umin_val, umax_val = os_.smin, os_.smax, os_.umin, os_.umax
    ps = ptr.s
    if (known and (smin_val != smax_val or umin_val != umax_val)) or smin_val > smax_val or umin_val > umax_val:
        v.set_reg(dst, R.scalar_unknown())
        return
    if (ins.code & 7) != 7:  # not ALU64
        if o == BPF_SUB:
            v.set_reg(dst, R.scalar_unknown())
            return
        v.err(f"R{dst} 32-bit pointer arithmetic prohibited")
    if t & R.PTR_MAYBE_NULL:
        v.err(f"R{dst} pointer arithmetic on {R.type_str(t)} prohibited, null-check it first")
    if b == R.PTR_TO_MEM and t & R.PTR_UNTRUSTED:
        return
    if b in _ARITH_OK:
        pass
    elif b == R.PTR_TO_FLOW_KEYS and known:
        pass
    elif b in (R.PTR_TO_FLOW_KEYS, R.CONST_PTR_TO_MAP) and known and smin_val == 0 and o == BPF_ADD:
        pass
    else:
        v.err(f"R{dst} pointer arithmetic on {R.type_str(t)} prohibited")
    _sane_offset(v, off_reg, t)
    _sane_offset(v, ptr, t)
    nid = ptr.id
    rng = ptr.range
    if o == BPF_ADD:
        if known and ptr.off + smin_val == _s32(ptr.off + smin_val):
            s = _WIDENED32
            noff = ptr.off + smin_val
        else:
            smin, smax = ps.smin + smin_val, ps.smax + smax_val
            if not (S64_MIN <= smin <= S64_MAX and S64_MIN <= smax <= S64_MAX):
                smin, smax = S64_MIN, S64_MAX
            umin, umax = ps.umin + umin_val, ps.umax + umax_val
            if umin > U64_MAX or umax > U64_MAX:
                umin, umax = 0, U64_MAX
            s = sc.Scalar.from_bounds(tn.add(ps.var_off, os_.var_off), smin, smax, umin, umax, sync=False)
            noff = ptr.off
            if R.is_pkt_pointer(t):
                v.id_gen += 1
                nid = v.id_gen
                rng = 0
    elif o == BPF_SUB:
        if dst_is_off:
            v.err(f"R{dst} tried to subtract pointer from scalar")
        if t == R.PTR_TO_STACK:
            v.err(f"R{dst} subtraction from stack pointer prohibited")
        if known and ptr.off - smin_val == _s32(ptr.off - smin_val):
            s = _WIDENED32
            noff = ptr.off - smin_val
        else:
            smin, smax = ps.smin - smax_val, ps.smax - smin_val
            if not (S64_MIN <= smin <= S64_MAX and S64_MIN <= smax <= S64_MAX):
                smin, smax = S64_MIN, S64_MAX
            if ps.umin < umax_val:
                umin, umax = 0, U64_MAX
            else:
                umin, umax = ps.umin - umax_val, ps.umax - umin_val
            s = sc.Scalar.from_bounds(tn.sub(ps.var_off, os_.var_off), smin, smax, umin, umax, sync=False)
            noff = ptr.off
            if R.is_pkt_pointer(t):
                v.id_gen += 1
                nid = v.id_gen
                if smin_val < 0:
                    rng = 0
    elif o in (BPF_AND, BPF_OR, BPF_XOR):
        v.err(f"R{dst} bitwise operator {ALU_STR[o >> 4]} on pointer prohibited")
    else:
        v.err(f"R{dst} pointer arithmetic with {ALU_STR[o >> 4]} operator prohibited")
    base = ptr if not dst_is_off else ptr.replace(ref_obj_id=off_reg.ref_obj_id, precise=off_reg.precise)
    if s is _WIDENED32:
        # a constant offset went into ``off`` and the 32-bit bounds of the value were widened;
        # for a constant value the sync brings them back: the value is the pointer's own again
        s = ps if sc.is_known(ps) else ps._replace(s32_min=sc.S32_MIN, s32_max=sc.S32_MAX, u32_min=0,
                                                    u32_max=sc.U32_MAX)
    new = base.replace(s=s, off=noff, id=nid, range=rng)
    _sane_offset(v, new, t)
    v.set_reg(dst, new if s is ps else new.replace(s=sc.sync(s)))


# ---- the map structure itself (CONST_PTR_TO_MAP) -------------------------------
_MAP_STRUCT = {}
for _names, _struct in ((("array", "percpu_array", "prog_array", "perf_event_array", "cgroup_array",
                          "array_of_maps"), "bpf_array"),
                        (("hash", "percpu_hash", "lru_hash", "lru_percpu_hash", "hash_of_maps"), "bpf_htab")):
    for _n in _names:
        from .uapi import MAP_TYPES as _MT

        _MAP_STRUCT[_MT[_n]] = _struct


def map_ptr_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """check_ptr_to_map_access: reading the kernel's map structure (root only; ``off`` includes ``reg.off``)."""
    from .btf_access import check_ptr_to_map_access

    check_ptr_to_map_access(v, reg, regno, off, size, write, value_regno, _MAP_STRUCT.get(reg.map.type))


# ---- one instruction, one kind of pointer ---------------------------------------
_MISMATCH_NOT_OK = (R.PTR_TO_CTX, R.PTR_TO_SOCKET, R.PTR_TO_SOCK_COMMON, R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK,
                    R.PTR_TO_BTF_ID, R.PTR_TO_ARENA)


def save_ptr_type(v, t: int, allow_trust_mismatch: bool) -> None:
    """save_aux_ptr_type: a load or store instruction must access memory through the same kind of pointer on
    every path when one of them is a context, socket or BTF pointer (the kernel rewrites such accesses)."""
    seen = v.insn_ptr_type  # by instruction: None until a path reached it
    idx = v.insn_idx
    prev = seen[idx]
    if prev is None:
        seen[idx] = t
        return
    if t == prev or (R.base_type(t) not in _MISMATCH_NOT_OK and R.base_type(prev) not in _MISMATCH_NOT_OK):
        return
    if allow_trust_mismatch and all(R.base_type(x) in (R.PTR_TO_MEM, R.PTR_TO_BTF_ID) for x in (t, prev)):
        merged = R.PTR_TO_MEM if R.PTR_TO_MEM in (R.base_type(t), R.base_type(prev)) else R.PTR_TO_BTF_ID
        merged |= (t | prev) & (R.PTR_UNTRUSTED | R.MEM_RDONLY)
        seen[idx] = merged
        return
    v.err("same insn cannot be used with different pointers", EINVAL)


# ---- null checks by comparing two pointers ------------------------------------
def null_from_pointer_compare(v, ins, d, s, eq_regs) -> None:
    """``if rA == rB`` with one maybe-null and one not-null pointer: on the branch where they are
    equal (``eq_regs``) the maybe-null one is not null (that register only; its id stays)."""

    regno = ins.src if s.type & R.PTR_MAYBE_NULL else ins.dst
    r = eq_regs[regno]
    if R.base_type(r.type) == R.PTR_TO_MAP_VALUE and r.map is not None and r.map.type in maps.MAP_IN_MAP_TYPES:
        raise _nm("null propagation between two pointers into a map of maps")
    eq_regs[regno] = r.replace(type=not_null_type(r))


# ---- alignment ---------------------------------------------------------------
NET_IP_ALIGN = 2  # strict mode checks packet accesses as if the packet started 2 bytes past alignment
_ALIGN_DESC = {R.PTR_TO_FLOW_KEYS: "flow keys ", R.PTR_TO_MAP_KEY: "key ", R.PTR_TO_MAP_VALUE: "value ",
               R.PTR_TO_CTX: "context ", R.PTR_TO_STACK: "stack ", R.PTR_TO_SOCKET: "sock ",
               R.PTR_TO_SOCK_COMMON: "sock_common ", R.PTR_TO_TCP_SOCK: "tcp_sock ", R.PTR_TO_XDP_SOCK: "xdp_sock "}


def check_ptr_alignment(v, reg, off: int, size: int) -> None:
    """check_ptr_alignment in strict mode (``off`` excludes ``reg.off``; byte accesses never get here)."""
    t = reg.type
    vo = reg.s.var_off
    if t in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META):
        a = tn.add(vo, tn.const(NET_IP_ALIGN + reg.off + off))
        if (a.value | a.mask) & (size - 1):
            v.err(f"misaligned packet access off {NET_IP_ALIGN}+{_tnum_str(vo)}+{reg.off}+{off} size {size}")
        return
    if t == R.PTR_TO_ARENA:
        return
    a = tn.add(vo, tn.const(reg.off + off))
    if (a.value | a.mask) & (size - 1):
        v.err(f"misaligned {_ALIGN_DESC.get(t, '')}access off {_tnum_str(vo)}+{reg.off}+{off} size {size}")


# ---- map values ------------------------------------------------------------
def _mem_access_fails(v, reg, regno: int, off: int, size: int, mem_size: int, zero_ok: bool) -> bool:
    size_ok = size > 0 or (size == 0 and zero_ok)
    if off >= 0 and size_ok and off + size <= mem_size:
        return False
    t = reg.type
    if t == R.PTR_TO_MAP_KEY:
        v.log.write(f"invalid access to map key, key_size={mem_size} off={off} size={size}\n")
    elif t == R.PTR_TO_MAP_VALUE:
        v.log.write(f"invalid access to map value, value_size={mem_size} off={off} size={size}\n")
    elif t in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_PACKET_END):
        v.log.write(f"invalid access to packet, off={off} size={size}, R{regno}(id={reg.id},off={off},"
                    f"r={mem_size})\n")
    else:
        v.log.write(f"invalid access to memory, mem_size={mem_size & 0xFFFFFFFF} off={off} size={size}\n")
    return True


def check_mem_region_access(v, reg, regno: int, off: int, size: int, mem_size: int, zero_ok: bool = False) -> None:
    s = reg.s
    if s.smin < 0 and (s.smin == S64_MIN or off + s.smin != _s32(off + s.smin) or s.smin + off < 0):
        v.err(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.")
    if _mem_access_fails(v, reg, regno, _s32(s.smin + off), size, mem_size, zero_ok):
        v.err(f"R{regno} min value is outside of the allowed memory range")
    if s.umax >= MAX_VAR_OFF:
        v.err(f"R{regno} unbounded memory access, make sure to bounds check any such access")
    if _mem_access_fails(v, reg, regno, _s32(s.umax + off), size, mem_size, zero_ok):
        v.err(f"R{regno} max value is outside of the allowed memory range")


def map_value_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int,
                     is_sx: bool = False) -> None:
    """The PTR_TO_MAP_VALUE branch of check_mem_access (``off`` includes ``reg.off``)."""

    if reg.type & R.MEM_RDONLY:
        raise _nm("read-only map values")
    m = reg.map
    mapvalue.check_access_type(v, m, off, size, write)
    check_mem_region_access(v, reg, regno, off, size, m.value_size)
    if m.record is not None:  # spin lock, timer, ...: never touched directly; kptrs only whole
        mapvalue.check_fields(v, reg, off, size)
        if not reg.s.var_off.mask:
            from . import kptr

            f = kptr.find(m.record, off + reg.s.var_off.value)
            if f is not None:
                kptr.access(v, f, v.insns[v.insn_idx], value_regno)
                return
    if not write and value_regno >= 0:
        vo = reg.s.var_off
        if not vo.mask and mapvalue.reads_as_constant(m):
            val = mapvalue.direct_read(v, m, off + vo.value, size, is_sx)
            v.set_reg(value_regno, R.scalar_const(val))
        else:
            v.set_reg(value_regno, R.scalar_unknown())


# ---- stack -----------------------------------------------------------------
def _tnum_str(t) -> str:
    """The kernel's tnum_strn as the log shows it (a constant prints as a number)."""

    return fmt_tnum(t.value, t.mask)


def check_stack_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int, ins) -> None:
    """The PTR_TO_STACK branch of check_mem_access, alignment included (``off`` excludes ``reg.off``)."""
    vo = reg.s.var_off
    if size != 1:
        if vo.mask:
            a = tn.add(vo, tn.const(reg.off + off))
            bad = (a.value | a.mask) & (size - 1)
        else:  # a known offset: the tnum sum is the plain sum
            bad = (vo.value + reg.off + off) & (size - 1)
        if bad:
            v.err(f"misaligned stack access off {_tnum_str(vo)}+{reg.off}+{off} size {size}")
    off += reg.off
    within_bounds(v, reg, regno, off, size, write)
    fr = v.state.frames[reg.frameno]
    if write:
        if not vo.mask:
            write_fixed(v, fr, off + _sval(vo.value), size, value_regno, ins)
        else:
            write_var(v, fr, reg, off, size, value_regno, ins)
    else:
        if not vo.mask:
            read_fixed(v, fr, off + _sval(vo.value), size, value_regno)
        else:
            if value_regno < 0:
                v.err(f"variable offset stack pointer cannot be passed into helper function; "
                      f"var_off={_tnum_str(vo)} off={off} size={size}")
            read_var(v, fr, reg, regno, off, size, value_regno)


def _sval(x: int) -> int:
    return x - (1 << 64) if x >> 63 else x


def within_bounds(v, reg, regno: int, off: int, size: int, write: bool) -> None:
    """check_stack_access_within_bounds (+ grow_stack_state)."""
    vo = reg.s.var_off
    if not vo.mask:
        min_off = _sval(vo.value) + off
        max_off = min_off + size
        if -MAX_BPF_STACK <= min_off <= -1 and max_off <= 0 and size >= 0:  # within the stack
            grow(v, v.state.frames[reg.frameno], -min_off)
            return
    extra = " write to" if write else " read from"
    if vo.mask:
        if reg.s.smax >= MAX_VAR_OFF or reg.s.smin <= -MAX_VAR_OFF:
            v.err(f"invalid unbounded variable-offset{extra} stack R{regno}")
        min_off = reg.s.smin + off
        max_off = reg.s.smax + off + size
    errno = 0
    if min_off < -MAX_BPF_STACK or min_off > -1:  # check_stack_slot_within_bounds (root: uninit stack ok)
        errno = EACCES
    elif max_off > 0:
        errno = EINVAL
    elif size < 0:
        errno = EFAULT
    if errno:
        if not vo.mask:
            v.err(f"invalid{extra} stack R{regno} off={off} size={size}", errno)
        v.err(f"invalid variable-offset{extra} stack R{regno} var_off={_tnum_str(vo)} off={off} size={size}", errno)
    grow(v, v.state.frames[reg.frameno], -min_off)


def grow(v, f, size: int) -> None:
    """grow_stack_state: allocate the frame's slots and raise its subprogram's stack depth."""
    f.grow_stack(size)
    alloc = (size + 7) // 8 * 8
    if f.subprogno == 0 and alloc > v.stack_depth:
        v.stack_depth = alloc
    depths = v.subprog_stack_depth
    if depths[f.subprogno] < alloc:
        depths[f.subprogno] = alloc


def _is_special(slot) -> bool:
    return slot.types[7] in _SPECIAL


_ALL_SPILL = (STACK_SPILL,) * 8


def _save(f, spi: int, reg, size: int) -> None:
    """save_register_state: the top ``size`` bytes of the slot become the spill."""
    if size == 8:  # the whole slot
        f.stack[spi] = Slot(_ALL_SPILL, reg)
        return
    cur = f.stack[spi].types
    types = list(cur)
    for i in range(8 - size, 8):
        types[i] = STACK_SPILL
    for i in range(8 - size):
        if cur[i] not in (STACK_ZERO, STACK_INVALID):
            types[i] = STACK_MISC
    f.stack[spi] = Slot(tuple(types), reg)


def write_fixed(v, f, off: int, size: int, value_regno: int, ins) -> None:
    """check_stack_write_fixed_off into frame ``f``."""

    slot = -off - 1
    spi = slot // 8
    st = v.state
    regs = st.frames[st.curframe].regs
    flags = stack_access_flags(f.frameno, spi)
    reg = regs[value_regno] if value_regno >= 0 else None
    if off % 8 == 0 and size == 8:
        v.live.mark_write(1 << spi, f.frameno)
    v.scratched_stack |= 1 << spi
    is_st = (ins.code & 7) == 2
    if reg is not None and off % 8 == 0 and reg.type == R.SCALAR:
        fits = reg_width(reg) <= 8 * size
        if fits:
            reg = assign_id_before_mov(v, reg)
            regs[value_regno] = reg
        _save(f, spi, reg if fits else reg.replace(id=0), size)
    elif reg is None and off % 8 == 0 and is_st:
        _save(f, spi, R.scalar_const(ins.imm), size)
    elif reg is not None and (reg.type & R.BASE_MASK) in _SPILLABLE:
        if size != 8:
            v.err("invalid size of register spill")
        if f is not st.frames[st.curframe] and reg.type == R.PTR_TO_STACK:
            v.err("cannot spill pointers to stack into stack frame of the caller", EINVAL)
        _save(f, spi, reg, size)
    else:
        cur = f.stack[spi]
        types = list(cur.types)
        if _is_special(cur):
            types = [STACK_MISC if t != STACK_INVALID else t for t in types]
        kind = STACK_MISC
        if (reg is not None and reg.type == R.SCALAR and not reg.s.var_off.mask and reg.s.var_off.value == 0) or \
                (reg is None and is_st and ins.imm == 0):
            mark_precise(v, value_regno)
            kind = STACK_ZERO
        for i in range(size):
            types[(slot - i) % 8] = kind
        f.stack[spi] = Slot(tuple(types), None)
        flags = 0
    if flags:
        precision.push_jmp_history(v, st, flags)


def write_var(v, f, reg, off: int, size: int, value_regno: int, ins) -> None:
    """check_stack_write_var_off into frame ``f`` (privileged)."""
    min_off = reg.s.smin + off
    max_off = reg.s.smax + off + size
    vreg = v.state.cur.regs[value_regno] if value_regno >= 0 else None
    writing_zero = (vreg is not None and vreg.type == R.SCALAR and not vreg.s.var_off.mask and
                    vreg.s.var_off.value == 0) or \
                   (vreg is None and (ins.code & 7) == 2 and ins.imm == 0)
    for i in range(min_off, max_off):
        spi = (-i - 1) // 8
        if f.stack[spi].types[7] == STACK_DYNPTR:
            raise _nm("dynptr stack slots")
    zero_used = False
    for i in range(min_off, max_off):
        slot = -i - 1
        spi = slot // 8
        j = slot % 8
        cur = f.stack[spi]
        v.scratched_stack |= 1 << spi
        st = cur.types[j]
        if writing_zero and st == STACK_SPILL and cur.types[7] == STACK_SPILL and cur.spilled is not None and \
                cur.spilled.type == R.SCALAR:
            sv = cur.spilled.s.var_off
            if not sv.mask and sv.value == 0:
                zero_used = True
                continue
        new_type = STACK_MISC
        if writing_zero and st == STACK_ZERO:
            new_type = STACK_ZERO
            zero_used = True
        if _is_special(cur):  # a spill anywhere in the slot is gone as a whole
            types = [STACK_MISC if x != STACK_INVALID else x for x in cur.types]
        else:
            types = list(cur.types)
        types[j] = new_type
        f.stack[spi] = Slot(tuple(types), None)
    if zero_used:
        mark_precise(v, value_regno)


def read_fixed(v, f, off: int, size: int, dst_regno: int) -> None:
    """check_stack_read_fixed_off from frame ``f``."""

    slot = -off - 1
    spi = slot // 8
    flags = stack_access_flags(f.frameno, spi)
    cur = f.stack[spi]
    types = cur.types
    v.scratched_stack |= 1 << spi
    v.live.mark_read(v.insn_idx, 1 << spi, f.frameno)
    st = v.state
    regs = st.frames[st.curframe].regs
    if types[7] == STACK_SPILL:
        sp = cur.spilled
        spill_size = 1
        i = 7
        while i > 0 and types[i - 1] == STACK_SPILL:
            spill_size += 1
            i -= 1
        if size != 8 or spill_size != 8:
            if sp.type != R.SCALAR:
                v.err("invalid size of register fill")
            if dst_regno < 0:
                return
            if size <= spill_size and off % 8 == 0:
                if size == 4 and spill_size == 4 and reg_width(sp) <= 32:
                    sp = assign_id_before_mov(v, sp)
                    f.stack[spi] = Slot(types, sp)
                nr = sp
                if reg_width(sp) > size * 8:
                    nr = nr.replace(id=0)
                regs[dst_regno] = nr
            else:
                spill_cnt = zero_cnt = 0
                for i in range(size):
                    t = types[(slot - i) % 8]
                    if t == STACK_SPILL:
                        spill_cnt += 1
                    elif t == STACK_ZERO:
                        zero_cnt += 1
                    elif t not in (STACK_MISC, STACK_INVALID):
                        v.err(f"invalid read from stack off {off}+{i} size {size}")
                sv = sp.s.var_off
                if spill_cnt == size and not sv.mask and sv.value == 0:
                    regs[dst_regno] = R.scalar_const(0)
                elif zero_cnt == size:
                    regs[dst_regno] = R.scalar_const(0)
                    flags = 0
                else:
                    regs[dst_regno] = R.scalar_unknown()
                    flags = 0
        elif dst_regno >= 0:
            # a full fill copies the spilled register as it is: no new id, even when the
            # slot lost its id (collect_linked_regs clears the ids of the leftovers)
            regs[dst_regno] = sp
        if flags:
            precision.push_jmp_history(v, st, flags)
        return
    for i in range(size):
        t = types[(slot - i) % 8]
        if t not in (STACK_MISC, STACK_ZERO, STACK_INVALID):
            v.err(f"invalid read from stack off {off}+{i} size {size}")
    if dst_regno >= 0:
        _mark_reg_stack_read(v, f, off, off + size, dst_regno)


def _mark_reg_stack_read(v, f, min_off: int, max_off: int, dst_regno: int) -> None:
    zeros = 0
    for i in range(min_off, max_off):
        slot = -i - 1
        spi = slot // 8
        v.scratched_stack |= 1 << spi
        if f.stack[spi].types[slot % 8] != STACK_ZERO:
            break
        zeros += 1
    v.state.cur.regs[dst_regno] = R.scalar_const(0) if zeros == max_off - min_off else R.scalar_unknown()


def read_var(v, f, reg, regno: int, off: int, size: int, dst_regno: int) -> None:
    """check_stack_read_var_off via check_stack_range_initialized (privileged, no helper meta)."""
    range_initialized(v, reg, regno, off, size, False, False)
    min_off = reg.s.smin + off
    max_off = reg.s.smax + off
    _mark_reg_stack_read(v, f, min_off, max_off + size, dst_regno)


def range_initialized(v, reg, regno: int, off: int, size: int, zero_ok: bool, clobber: bool) -> None:
    """check_stack_range_initialized without raw mode (privileged)."""
    if size == 0 and not zero_ok:
        v.err("invalid zero-sized read")
    within_bounds(v, reg, regno, off, size, clobber)
    vo = reg.s.var_off
    if not vo.mask:
        min_off = max_off = _sval(vo.value) + off
    else:
        min_off = reg.s.smin + off
        max_off = reg.s.smax + off
    f = v.state.frames[reg.frameno]
    for i in range(min_off, max_off + size):
        slot = -i - 1
        spi = slot // 8
        cur = f.stack[spi]
        t = cur.types[slot % 8]
        if t in (STACK_MISC, STACK_ZERO, STACK_INVALID):
            if clobber and t != STACK_MISC:
                types = list(cur.types)
                types[slot % 8] = STACK_MISC
                f.stack[spi] = Slot(tuple(types), cur.spilled)
        elif cur.types[7] == STACK_SPILL:
            if clobber:
                types = tuple(STACK_MISC if x != STACK_INVALID else x for x in cur.types)
                f.stack[spi] = Slot(types, R.scalar_unknown())
        else:
            if not vo.mask:
                v.err(f"invalid read from stack R{regno} off {min_off}+{i - min_off} size {size}")
            v.err(f"invalid read from stack R{regno} var_off {_tnum_str(vo)}+{i - min_off} size {size}")
        v.live.mark_read(v.insn_idx, 1 << spi, reg.frameno)


# ---- register moves (ids, sign extension, 32-bit) ---------------------------
def mov_reg(v, ins, src, is64: bool) -> None:
    """check_alu_op's BPF_MOV | BPF_X: ``dst = src`` (64/32-bit, plain or sign-extending)."""
    regs = v.state.cur.regs
    bits = ins.off
    if src.type != R.SCALAR:
        if is64:  # a copy, or a sign extension of part of a pointer (unknown)
            regs[ins.dst] = src if not bits else R.scalar_unknown()
        else:  # part of a pointer: unknown, zero-extended from 32 bits
            regs[ins.dst] = R.scalar_of(sc.mov32(sc.Scalar.unknown()))
        return
    if is64:
        if not bits:
            src = assign_id_before_mov(v, src)
            regs[ins.src] = src
            regs[ins.dst] = src
            return
        no_sext = src.s.umax < (1 << (bits - 1))
        if no_sext:
            src = assign_id_before_mov(v, src)
            regs[ins.src] = src
        regs[ins.dst] = src.replace(s=sc.movsx64(src.s, bits), id=src.id if no_sext else 0)
        return
    if not bits:
        keep = reg_width(src) <= 32
        if keep:
            src = assign_id_before_mov(v, src)
            regs[ins.src] = src
        regs[ins.dst] = src.replace(s=sc.mov32(src.s), id=src.id if keep else 0)
        return
    no_sext = src.s.umax < (1 << (bits - 1))
    if no_sext:
        src = assign_id_before_mov(v, src)
        regs[ins.src] = src
    regs[ins.dst] = src.replace(s=sc.movsx32(src.s, bits), id=src.id if no_sext else 0)


def mem_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """The PTR_TO_MEM branch of check_mem_access (``off`` includes ``reg.off``)."""
    t = reg.type
    rdonly = bool(t & R.MEM_RDONLY)
    if t & R.PTR_MAYBE_NULL:
        v.err(f"R{regno} invalid mem access '{R.type_str(t)}'")
    if write and rdonly:
        v.err(f"R{regno} cannot write into {R.type_str(t)}")
    if not (rdonly and t & R.PTR_UNTRUSTED):
        check_mem_region_access(v, reg, regno, off, size, reg.mem_size)
    if value_regno >= 0 and (not write or rdonly):
        v.state.cur.regs[value_regno] = R.scalar_unknown()


def tp_buffer_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """A writable raw tracepoint's buffer (``off`` includes ``reg.off``): a constant, non-negative offset; its
    size is checked when the program is attached, not here."""
    if off < 0:
        v.err(f"R{regno} invalid tracepoint buffer access: off={off}, size={size}")
    vo = reg.s.var_off
    if vo.mask or vo.value:
        v.err(f"R{regno} invalid variable buffer offset: off={off}, var_off={fmt_tnum(vo.value, vo.mask)}")
    if not write and value_regno >= 0:
        v.set_reg(value_regno, R.scalar_unknown())


BPF_FLOW_KEYS_SIZE = 56  # sizeof(struct bpf_flow_keys), uapi


def flow_keys_access(v, off: int, size: int, write: bool, value_regno: int) -> None:
    """A flow dissector's ``struct bpf_flow_keys`` (``off`` includes the pointer's fixed offset)."""
    if off < 0 or off + size > BPF_FLOW_KEYS_SIZE:
        v.err(f"invalid access to flow keys off={off} size={size}")
    if not write and value_regno >= 0:
        v.set_reg(value_regno, R.scalar_unknown())


# ---- legacy packet loads -----------------------------------------------------
_SKB_TYPES = frozenset(uapi.PROG_TYPES[n] for n in ("socket_filter", "sched_cls", "sched_act"))


def check_ld_abs(v, ins) -> None:
    """check_ld_abs: BPF_LD | BPF_ABS / BPF_IND, with the skb in R6, result in R0, R1-R5 clobbered."""
    if v.prog.prog_type not in _SKB_TYPES:
        v.err("BPF_LD_[ABS|IND] instructions not allowed for this program type", EINVAL)
    mode = ins.code & 0xE0
    if ins.dst != 0 or ins.off != 0 or (ins.code & 0x18) == 0x18 or (mode == 0x20 and ins.src != 0):
        v.err("BPF_LD_[ABS|IND] uses reserved fields", EINVAL)
    r6 = v.check_reg_read(6)
    # a held spin lock, RCU section or disabled preemption (any frame), leaked references (main frame)
    check_resource_leak(v, "BPF_LD_[ABS|IND]")
    if r6.type != R.PTR_TO_CTX:
        v.err("at the time of BPF_LD_ABS|IND R6 != pointer to skb", EINVAL)
    if mode == 0x40:
        v.check_reg_read(ins.src)
    if r6.off < 0:
        v.err(f"negative offset ctx ptr R6 off={r6.off} disallowed")
    if r6.off:
        v.err(f"dereference of modified ctx ptr R6 off={r6.off} disallowed")
    if r6.s.var_off.mask or r6.s.var_off.value:
        v.err(f"variable ctx access var_off={_tnum_str(r6.s.var_off)} disallowed")
    regs = v.state.cur.regs
    v.clear_caller_saved(regs)
    regs[0] = R.scalar_unknown()
    if v.state.curframe:
        _ld_abs_early_exit(v)


def _ld_abs_early_exit(v) -> None:
    """In a subprogram a failed LD_ABS/LD_IND returns 0 from it at once: that path leaves the
    subprogram with R0 = 0, the other goes on after the load with the loaded value."""
    from . import subprog

    subprog.leave_subprog_early(v, R.scalar_const(0))
