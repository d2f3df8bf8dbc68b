"""Helper calls: the kernel's check_helper_call() and check_func_arg() for the helpers in ``helpers``.

Every function takes the running verifier ``v`` (``pyverifier.verifier._Verifier``)
and works on ``v.state``. The order of the checks, and so which message a bad
program gets, follows the 6.18 kernel: availability, GPL, each argument in
turn (type, offset, the memory it names and its size), the map and tail-call
bookkeeping, the byte-wise writes of an uninitialised-memory argument,
releases, clobbering R0-R5, the return value, acquires, the return range and
finally the map/function compatibility.
"""
from __future__ import annotations

from . import helpers as H
from . import maps as M
from . import precision
from .memory import grow
from .log import fmt_tnum
from . import regs as R
from .helper_ids import BPF_FUNC_MAX_ID, HELPER_NAMES
from .stack import STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, Slot

EINVAL = 22
EACCES = 13
EFAULT = 14
ENOTSUPP = 524
_KPROBE = 2
_SOCKOPT = 25
BPF_MAX_VAR_SIZ = 1 << 29
MAX_BPF_STACK = 512
MAX_ERRNO = 4095
U64_MAX = (1 << 64) - 1

def _nm(msg: str):
    from .verifier import NotModelled as VNM

    raise VNM(msg)


def mark_precise(v, regno: int) -> None:
    """The kernel marks a register precise here (mark_chain_precision)."""
    precision.mark_chain_precision(v, regno)


def func_name(fid: int) -> str:
    return HELPER_NAMES.get(fid, "unknown")


# ---- compatible register types per argument kind (check_reg_type) ----
_MEM_TYPES = (R.PTR_TO_STACK, R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_MAP_KEY, R.PTR_TO_MAP_VALUE,
              R.PTR_TO_MEM, R.PTR_TO_MEM | R.MEM_RINGBUF, R.PTR_TO_BUF, R.PTR_TO_BTF_ID | R.PTR_TRUSTED)
_SOCK_TYPES = (R.PTR_TO_SOCK_COMMON, R.PTR_TO_SOCKET, R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK)
_COMPATIBLE = {
    H.ARG_CONST_MAP_PTR: (R.CONST_PTR_TO_MAP,),
    H.ARG_PTR_TO_MAP_KEY: _MEM_TYPES,
    H.ARG_PTR_TO_MAP_VALUE: _MEM_TYPES,
    H.ARG_PTR_TO_MEM: _MEM_TYPES,
    H.ARG_CONST_SIZE: (R.SCALAR,),
    H.ARG_CONST_SIZE_OR_ZERO: (R.SCALAR,),
    H.ARG_CONST_ALLOC_SIZE_OR_ZERO: (R.SCALAR,),
    H.ARG_PTR_TO_CTX: (R.PTR_TO_CTX,),
    H.ARG_PTR_TO_SOCK_COMMON: _SOCK_TYPES,
    H.ARG_PTR_TO_SOCKET: (R.PTR_TO_SOCKET,),
    H.ARG_PTR_TO_BTF_ID_SOCK_COMMON: _SOCK_TYPES + (R.PTR_TO_BTF_ID, R.PTR_TO_BTF_ID | R.PTR_TRUSTED),
    H.ARG_PTR_TO_RINGBUF_MEM: (R.PTR_TO_MEM | R.MEM_RINGBUF,),
    H.ARG_PTR_TO_STACK: (R.PTR_TO_STACK,),
    H.ARG_PTR_TO_FUNC: (R.PTR_TO_FUNC,),
    H.ARG_PTR_TO_SPIN_LOCK: (R.PTR_TO_MAP_VALUE, R.PTR_TO_BTF_ID | R.MEM_ALLOC),
    H.ARG_PTR_TO_TIMER: (R.PTR_TO_MAP_VALUE,),
    H.ARG_KPTR_XCHG_DEST: (R.PTR_TO_MAP_VALUE, R.PTR_TO_BTF_ID | R.MEM_ALLOC),
    H.ARG_PTR_TO_BTF_ID: (R.PTR_TO_BTF_ID, R.PTR_TO_BTF_ID | R.PTR_TRUSTED, R.PTR_TO_BTF_ID | R.MEM_RCU),
    H.ARG_PTR_TO_PERCPU_BTF_ID: (R.PTR_TO_BTF_ID | R.MEM_PERCPU, R.PTR_TO_BTF_ID | R.MEM_PERCPU | R.MEM_RCU,
                                 R.PTR_TO_BTF_ID | R.MEM_PERCPU | R.PTR_TRUSTED),
}
# register types that may carry a fixed and variable offset into a helper (check_func_arg_reg_off)
_PKT_BASES = frozenset({R.PTR_TO_PACKET, R.PTR_TO_PACKET_META})
_OFF_OK = frozenset({R.PTR_TO_STACK, R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_MAP_KEY, R.PTR_TO_MAP_VALUE,
                     R.PTR_TO_MEM, R.PTR_TO_MEM | R.MEM_RDONLY, R.PTR_TO_MEM | R.MEM_RINGBUF, R.PTR_TO_BUF,
                     R.PTR_TO_BUF | R.MEM_RDONLY, R.PTR_TO_ARENA, R.SCALAR})


class Meta:
    __slots__ = ("map", "raw_mode", "access_size", "regno", "release_regno", "ref_obj_id", "mem_size",
                 "msize_max_value", "const_map_key", "pkt_access", "func_id", "subprogno", "kptr_field")

    def __init__(self, func_id: int, pkt_access: bool):
        self.map = None
        self.raw_mode = False
        self.access_size = 0
        self.regno = 0
        self.release_regno = 0
        self.ref_obj_id = 0
        self.mem_size = 0
        self.msize_max_value = 0
        self.const_map_key = -1
        self.pkt_access = pkt_access
        self.func_id = func_id
        self.subprogno = -1
        self.kptr_field = None  # bpf_kptr_xchg: the map value's kptr field


def _is_null(r) -> bool:
    return r.type == R.SCALAR and not r.s.var_off.mask and r.s.var_off.value == 0


def check_helper_call(v, ins) -> None:
    fid = ins.imm
    name = func_name(fid)
    prog = v.prog
    if fid < 0 or fid >= BPF_FUNC_MAX_ID:
        v.err(f"invalid func {name}#{fid}", EINVAL)
    avail, proto, gpl = H.lookup(fid, prog.prog_type, prog.expected_attach_type or 0, prog.attach_to)
    if avail is None:
        _nm(f"helper availability for program type {prog.prog_type}")
    if not avail:
        v.err(f"program of this type cannot use helper {name}#{fid}", EINVAL)
    if proto is None:
        _nm(f"helper {name}")
    if gpl and not H.gpl_compatible(prog.license):
        v.err("cannot call GPL-restricted function from non-GPL compatible program", EINVAL)
    meta = Meta(fid, proto.pkt_access)
    for i, at in enumerate(proto.args):
        _check_func_arg(v, i, at, meta, proto)
    if fid in _MAP_FUNCS:
        _record_func_map(v, meta)
    if fid == 12:
        _record_func_key(v, meta)
    if meta.access_size:
        _raw_mode_writes(v, meta)
    st = v.state
    regs = st.frames[st.curframe].regs
    if meta.release_regno:
        from . import refs

        ok = False
        if meta.ref_obj_id:
            ok = refs.release_reference(v, meta.ref_obj_id)
        elif _is_null(regs[meta.release_regno]):
            ok = True
        if not ok:
            v.err(f"func {name}#{fid} reference has not been acquired before", EINVAL)
    if fid == 81 and not _is_null(regs[2]):  # get_local_storage cannot fail, so its flags must be 0
        v.err("get_local_storage() doesn't support non-zero flags", EINVAL)
    if fid == 12:  # tail_call
        from . import refs

        if v.state.refs and v.state.curframe == 0:  # the leak check looks at the main frame only
            refs.report_leaks(v)
            v.err("tail_call would lead to reference leak", EINVAL)
    elif fid in _CALLBACK_HELPERS:
        _push_callback(v, fid, meta, regs)
    v.clear_caller_saved(regs)
    _set_return(v, regs, proto, meta, fid, name)
    if meta.map is not None:
        _check_map_func_compat(v, meta.map, fid, name)
    if fid == 173 and prog.prog_type != _KPROBE:  # check_get_func_ip (tracing programs need BTF)
        v.err(f"func {name}#{fid} not supported for program type {prog.prog_type}", ENOTSUPP)
    if fid in H.CHANGES_PKT_DATA:
        try:
            from .packet import clear_all_pkt_pointers
        except ImportError:
            _nm("helpers that change packet data")
        clear_all_pkt_pointers(v.state)
    if fid == 12 and v.state.curframe:
        _tail_call_in_subprog(v)


def _tail_call_in_subprog(v) -> None:
    """A tail call inside a subprogram (allowed with BTF func_info): one path goes on after the
    call (the tail call failed), the other leaves the subprogram at once with an unknown R0."""
    from . import subprog
    from .packet import clear_all_pkt_pointers

    clear_all_pkt_pointers(v.state)  # the tail-called program may have changed the packet
    subprog.leave_subprog_early(v, R.scalar_unknown())


_BPF_LOOP, _FOR_EACH_MAP_ELEM = 181, 164
_KPTR_XCHG = 194
_FIND_VMA = 180
_BLOOM_FILTER = 30
_CALLBACK_HELPERS = frozenset({_BPF_LOOP, _FOR_EACH_MAP_ELEM, 170, 180, 209})


def _push_callback(v, fid: int, meta: Meta, regs) -> None:
    """The callback a helper calls: queued as a path one frame deeper (bpf_loop while the bound allows)."""
    from . import subprog

    if fid == _FOR_EACH_MAP_ELEM:
        subprog.push_callback_call(v, meta.subprogno, subprog.set_map_elem_callback_state)
        return
    if fid == _FIND_VMA:
        subprog.push_callback_call(v, meta.subprogno, _set_find_vma_callback_state)
        return
    if fid != _BPF_LOOP:
        _nm(f"callbacks of helper {func_name(fid)}")
    # bpf_loop: can the call be inlined (flags 0, one callback every time)?
    st = v.loop_inline.get(v.insn_idx)
    if st is None:
        v.loop_inline[v.insn_idx] = [_loop_flags_zero(v, regs), meta.subprogno]
    elif st[0]:
        st[0] = _loop_flags_zero(v, regs) and st[1] == meta.subprogno
    mark_precise(v, 1)  # the iteration count decides when the loop ends
    f = v.state.cur
    if f.callback_depth < regs[1].s.umax:
        subprog.push_callback_call(v, meta.subprogno, subprog.set_loop_callback_state)
    else:
        f.callback_depth = 0
        if v.log.level2:
            v.log.write(f"frame{v.state.curframe} bpf_loop iteration limit reached\n")


def _set_find_vma_callback_state(v, caller, callee) -> None:
    """bpf_find_vma's callback(task, vma, ctx): the caller's task, the VMA found, the caller's R4."""
    callee.regs[1] = caller.regs[1]
    callee.regs[2] = R.pointer(R.PTR_TO_BTF_ID, mem_size=_kernel_struct_id(v, "vm_area_struct"))
    callee.regs[3] = caller.regs[4]


def _loop_flags_zero(v, regs) -> bool:
    if _is_null(regs[4]):
        mark_precise(v, 4)
        return True
    return False


def _set_return(v, regs, proto, meta, fid: int, name: str) -> None:
    """R0 after the call (``regs``: the caller's registers)."""
    rt = proto.ret
    base = rt & H.BASE
    flags = rt & ~H.BASE
    if base == H.RET_INTEGER:
        r0 = R.scalar_unknown()
        if fid in H.RET_BOUNDED_BY_SIZE:
            r0 = _refine_by_size(meta)
        elif fid == 8:
            if H.NR_CPU_IDS is None:
                _nm("bpf_get_smp_processor_id range (nr_cpu_ids unknown)")
            r0 = _cpu_id_range(H.NR_CPU_IDS)
        regs[0] = r0
    elif base == H.RET_VOID:
        regs[0] = R.NOT_INIT_REG
    elif base == H.RET_PTR_TO_MAP_VALUE:
        m = meta.map
        if m is None:
            v.err("kernel subsystem misconfigured verifier", EINVAL)
        if fid == 1 and m.type in M.ELIDE_NULL_TYPES and 0 <= meta.const_map_key < m.max_entries:
            flags &= ~R.PTR_MAYBE_NULL
        if m.type in M.MAP_IN_MAP_TYPES and m.inner is None:
            _nm("map-in-map lookups without an inner map template")
        regs[0] = R.pointer(R.PTR_TO_MAP_VALUE | flags, map=m)
        if m.has_lock and not flags & R.PTR_MAYBE_NULL:  # locks are told apart by the value's id
            from .locks import value_id

            regs[0] = regs[0].replace(id=value_id(v, m))
    elif base == H.RET_PTR_TO_SOCKET:
        regs[0] = R.pointer(R.PTR_TO_SOCKET | flags)
    elif base == H.RET_PTR_TO_SOCK_COMMON:
        regs[0] = R.pointer(R.PTR_TO_SOCK_COMMON | flags)
    elif base == H.RET_PTR_TO_TCP_SOCK:
        regs[0] = R.pointer(R.PTR_TO_TCP_SOCK | flags)
    elif base == H.RET_PTR_TO_MEM:
        regs[0] = R.pointer(R.PTR_TO_MEM | flags, mem_size=meta.mem_size)
    elif base == H.RET_PTR_TO_BTF_ID and proto.ret_btf:
        regs[0] = R.pointer(R.PTR_TO_BTF_ID | flags, mem_size=_kernel_struct_id(v, proto.ret_btf))
    elif base == H.RET_PTR_TO_BTF_ID and fid == _KPTR_XCHG:
        from .kptr import target_id

        regs[0] = R.pointer(R.PTR_TO_BTF_ID | flags, mem_size=target_id(v, meta.kptr_field))
    else:
        _nm(f"return type of {name}")
    r0 = regs[0]
    if r0.type != R.NOT_INIT and r0.type & R.PTR_MAYBE_NULL:
        v.id_gen += 1
        r0 = r0.with_s(r0.s)  # a new register (replace(id=...) without keyword handling)
        r0.id = v.id_gen
        regs[0] = r0
    if fid in H.PTR_CAST:
        regs[0] = regs[0].replace(ref_obj_id=meta.ref_obj_id)
    elif fid in H.ACQUIRE or (fid == 1 and meta.map is not None and meta.map.type in M.SOCK_MAP_TYPES):
        from . import refs

        rid = refs.acquire_reference(v, v.insn_idx)
        regs[0] = regs[0].replace(id=rid, ref_obj_id=rid)


def _kernel_struct_id(v, name: str) -> int:
    from .btf import STRUCT
    from .btf_access import kernel_btf

    ids = kernel_btf(v).find(name, STRUCT)
    if not ids:
        _nm(f"struct {name} is not in the kernel's BTF")
    return ids[0]


def _refine_by_size(meta):
    from . import scalar as sc

    m = meta.msize_max_value
    m32 = ((m & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    return R.scalar_of(sc.Scalar.from_bounds(smin=-MAX_ERRNO, smax=m, s32_min=-MAX_ERRNO, s32_max=m32))


def _cpu_id_range(n: int):
    from . import scalar as sc

    return R.scalar_of(sc.Scalar.from_bounds(umin=0, umax=n - 1, u32_min=0, u32_max=n - 1, smin=0, smax=n - 1,
                                             s32_min=0, s32_max=n - 1))


# ---- one argument ------------------------------------------------------
def _check_func_arg(v, i: int, at: int, meta: Meta, proto) -> None:
    regno = i + 1
    base = at & H.BASE
    if base == H.ARG_DONTCARE:
        return
    reg = v.check_reg_read(regno)
    if base == H.ARG_ANYTHING:
        return
    t = reg.type
    if (t & R.BASE_MASK) in _PKT_BASES:  # R.is_pkt_pointer, without the call
        from .packet import may_access_direct

        pt = v.prog.prog_type
        if pt != _SOCKOPT and not (meta.pkt_access and may_access_direct(pt, False)):
            v.err("helper access to the packet is not allowed")
    if base == H.ARG_PTR_TO_MAP_VALUE:  # resolve_map_arg_type: a sockmap's value is a socket
        if meta.map is None:
            v.err("invalid map_ptr to access map->type")
        if meta.map.type in M.SOCK_MAP_TYPES:
            if at != H.ARG_PTR_TO_MAP_VALUE:
                v.err("invalid arg_type for sockmap/sockhash", EINVAL)
            at = base = H.ARG_PTR_TO_BTF_ID_SOCK_COMMON
    if not (at & H.PTR_MAYBE_NULL and _is_null(reg)):
        _check_reg_type(v, regno, reg, at, meta)
        _check_reg_off(v, reg, regno, at)
    if at & H.OBJ_RELEASE:
        if not reg.ref_obj_id and not _is_null(reg):
            v.err(f"R{regno} must be referenced when passed to release function", EINVAL)
        meta.release_regno = regno
    if reg.ref_obj_id:
        if meta.ref_obj_id:
            v.err(f"verifier internal error: more than one arg with ref_obj_id R{regno} {reg.ref_obj_id} "
                  f"{meta.ref_obj_id}", EFAULT)
        meta.ref_obj_id = reg.ref_obj_id
    if base == H.ARG_CONST_MAP_PTR:
        if meta.map is not None:  # bpf_timer_init: the timer's map (pyverifier.mapvalue.process_timer)
            from .mapvalue import check_timer_map_arg

            check_timer_map_arg(v, meta, reg)
        meta.map = reg.map
    elif base == H.ARG_PTR_TO_MAP_KEY:
        if meta.map is None:
            v.err("invalid map_ptr to access map->key")
        ks = meta.map.key_size
        check_helper_mem_access(v, regno, ks, False, False, None)
        if meta.map.type in M.ELIDE_NULL_TYPES:
            meta.const_map_key = _constant_map_key(v, reg, ks)
    elif base == H.ARG_PTR_TO_MAP_VALUE:
        if at & H.PTR_MAYBE_NULL and _is_null(reg):
            return
        if meta.map is None:
            v.err("invalid map_ptr to access map->value")
        if meta.func_id == 89 and meta.map.type == _BLOOM_FILTER:
            at &= ~(H.MEM_UNINIT | H.MEM_WRITE)  # a bloom filter's peek tests the value: it reads it (measured)
        meta.raw_mode = bool(at & H.MEM_UNINIT)
        check_helper_mem_access(v, regno, meta.map.value_size, bool(at & H.MEM_WRITE), False, meta)
    elif base == H.ARG_PTR_TO_MEM:
        meta.raw_mode = bool(at & H.MEM_UNINIT)
        if at & H.MEM_FIXED_SIZE:
            size = proto.arg_size[i]
            check_helper_mem_access(v, regno, size, bool(at & H.MEM_WRITE), False, meta)
            if at & H.MEM_ALIGNED and size > 1:
                from .memory import check_ptr_alignment

                check_ptr_alignment(v, reg, 0, size)
    elif base in (H.ARG_CONST_SIZE, H.ARG_CONST_SIZE_OR_ZERO):
        prev = proto.args[i - 1]
        _check_mem_size_reg(v, reg, regno, bool(prev & H.MEM_WRITE), base == H.ARG_CONST_SIZE_OR_ZERO, meta)
    elif base == H.ARG_CONST_ALLOC_SIZE_OR_ZERO:
        if reg.s.var_off.mask:
            v.err(f"R{regno} is not a known constant'")
        meta.mem_size = reg.s.var_off.value & 0xFFFFFFFF  # a u32 in the kernel
        mark_precise(v, regno)
    elif base in (H.ARG_PTR_TO_CTX, H.ARG_PTR_TO_SOCK_COMMON, H.ARG_PTR_TO_SOCKET, H.ARG_PTR_TO_BTF_ID_SOCK_COMMON,
                  H.ARG_PTR_TO_RINGBUF_MEM, H.ARG_PTR_TO_STACK):
        pass
    elif base == H.ARG_PTR_TO_SPIN_LOCK:
        from .locks import process_spin_lock

        process_spin_lock(v, regno, meta.func_id == H.BPF_FUNC_spin_lock)
    elif base == H.ARG_PTR_TO_TIMER:
        from .mapvalue import process_timer

        process_timer(v, regno, meta)
    elif base == H.ARG_PTR_TO_FUNC:
        meta.subprogno = reg.range  # a PTR_TO_FUNC register keeps its subprogram there
    elif base == H.ARG_KPTR_XCHG_DEST:
        if reg.type != R.PTR_TO_MAP_VALUE:
            _nm("bpf_kptr_xchg into an allocated object")
        from .kptr import xchg_dest

        meta.kptr_field = xchg_dest(v, reg, regno)
    elif base == H.ARG_PTR_TO_BTF_ID:
        pass
    else:
        _nm(f"helper argument kind {base}")


def _check_reg_type(v, regno: int, reg, at: int, meta: Meta, need_id: int | None = None) -> None:
    """check_reg_type: ``reg`` fits argument kind ``at``; ``need_id``: the kernel struct a BTF pointer
    argument must point to, when not the helper's (a global function's ``arg:trusted``)."""
    base = at & H.BASE
    compat = _COMPATIBLE.get(base)
    if compat is None:
        _nm(f"helper argument kind {base}")
    t = reg.type
    if at & H.MEM_RDONLY:
        t &= ~R.MEM_RDONLY
    if at & H.PTR_MAYBE_NULL:
        t &= ~R.PTR_MAYBE_NULL
    if t in compat:
        if (t & R.BASE_MASK) == R.PTR_TO_BTF_ID:
            _check_btf_arg(v, regno, reg, at, compat, meta, need_id)
        return
    exp = ", ".join(R.type_str(c) for c in compat)
    v.err(f"R{regno} type={R.type_str(reg.type)} expected={exp}")


# the kernel struct a BTF pointer argument must start with, per argument kind
_ARG_BTF_STRUCT = {H.ARG_PTR_TO_BTF_ID_SOCK_COMMON: "sock_common"}
_BTF_ARG_TYPES = frozenset({R.PTR_TO_BTF_ID, R.PTR_TO_BTF_ID | R.PTR_TRUSTED,
                            R.PTR_TO_BTF_ID | R.PTR_TRUSTED | R.PTR_MAYBE_NULL, R.PTR_TO_BTF_ID | R.MEM_RCU,
                            R.PTR_TO_BTF_ID | R.PTR_MAYBE_NULL, R.PTR_TO_BTF_ID | R.PTR_MAYBE_NULL | R.MEM_RCU})


def _check_btf_arg(v, regno: int, reg, at: int, compat, meta: Meta, need_id: int | None = None) -> None:
    """A pointer to a kernel object passed to a helper (check_reg_type's BTF part)."""
    if compat is _MEM_TYPES:
        if not at & H.MEM_RDONLY:
            v.err(f"{func_name(meta.func_id)}() may write into memory pointed by R{regno} type={R.type_str(reg.type)}")
        return
    if reg.type not in _BTF_ARG_TYPES:
        _nm(f"helper argument of type {R.type_str(reg.type)}")
    release = bool(at & H.OBJ_RELEASE)
    strict = release and meta.func_id != 86  # bpf_sk_release takes any socket: it matches the first member
    if reg.type & R.PTR_MAYBE_NULL and (not at & H.PTR_MAYBE_NULL or release):
        v.err(f"Possibly NULL pointer passed to helper arg{regno}")
    if meta.func_id == _KPTR_XCHG:
        from .kptr import match_type

        match_type(v, meta.kptr_field, reg, regno)
        return
    from .btf_access import kernel_btf, struct_ids_match, type_name

    btf = kernel_btf(v)
    need_name = _ARG_BTF_STRUCT.get(at & H.BASE) if need_id is None else type_name(btf, need_id)
    if need_name is None and at & H.BASE == H.ARG_PTR_TO_BTF_ID:
        proto = H.proto(meta.func_id, v.prog.prog_type)
        names = proto.arg_btf if proto is not None else ()
        need_name = names[regno - 1] if regno - 1 < len(names) and names[regno - 1] else None
    if need_name is None:
        _nm(f"helper argument kind {at & H.BASE} with a BTF pointer")
    need = need_id if need_id is not None else _kernel_struct_id(v, need_name)
    ok, lines = struct_ids_match(btf, reg.mem_size, reg.off, need, strict)
    for line in lines:
        v.log.write(line + "\n")
    if not ok:
        v.err(f"R{regno} is of type {type_name(btf, reg.mem_size)} but {need_name} is expected")


def _check_reg_off(v, reg, regno: int, at: int) -> None:
    t = reg.type
    if at & H.OBJ_RELEASE:
        if reg.off:
            v.err(f"R{regno} must have zero offset when passed to release func or trusted arg to kfunc", EINVAL)
        _check_ptr_off(v, reg, regno, False)
        return
    if t in _OFF_OK:
        return
    _check_ptr_off(v, reg, regno, (t & R.BASE_MASK) == R.PTR_TO_BTF_ID)


def _check_ptr_off(v, reg, regno: int, fixed_ok: bool) -> None:

    if reg.off < 0:
        v.err(f"negative offset {R.type_str(reg.type)} ptr R{regno} off={reg.off} disallowed")
    if not fixed_ok and reg.off:
        v.err(f"dereference of modified {R.type_str(reg.type)} ptr R{regno} off={reg.off} disallowed")
    vo = reg.s.var_off
    if vo.mask or vo.value:
        v.err(f"variable {R.type_str(reg.type)} access var_off={fmt_tnum(vo.value, vo.mask)} disallowed")


def _check_mem_size_reg(v, reg, regno: int, write: bool, zero_ok: bool, meta: Meta) -> None:
    s = reg.s
    meta.msize_max_value = s.umax
    m = meta if not s.var_off.mask else None
    if s.smin < 0:
        v.err(f"R{regno} min value is negative, either use unsigned or 'var &= const'")
    if s.umin == 0 and not zero_ok:
        v.err(f"R{regno} invalid zero-sized read: u64=[{s.umin},{s.umax}]")
    if s.umax >= BPF_MAX_VAR_SIZ:
        v.err(f"R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'")
    check_helper_mem_access(v, regno - 1, s.umax, write, zero_ok, m)
    mark_precise(v, regno)


def _constant_map_key(v, key, key_size: int) -> int:
    """get_constant_map_key: a stack key whose bytes are all known; -1 when not."""
    if key.type != R.PTR_TO_STACK or key.s.var_off.mask:
        return -1
    f = v.state.frames[key.frameno]
    o = key.off + key.s.var_off.value
    slot = -o - 1
    spi = slot // 8
    off = slot % 8
    if spi >= len(f.stack):
        return -1
    types = f.stack[spi].types
    zero = 0
    i = off
    while i >= 0 and types[i] == STACK_ZERO:
        zero += 1
        i -= 1
    if zero >= key_size:
        return 0
    if types[7] != STACK_SPILL or f.stack[spi].spilled is None or f.stack[spi].spilled.type != R.SCALAR:
        return -1
    spill = 0
    i = off
    while i >= 0 and types[i] == STACK_SPILL:
        spill += 1
        i -= 1
    if spill != key_size:
        return -1
    sp = f.stack[spi].spilled
    if sp.s.var_off.mask:
        return -1
    try:
        from . import precision
    except ImportError:
        _nm("precision tracking")
    bt = precision.Backtrack(v.state.curframe)
    bt.stack[key.frameno] |= 1 << spi
    precision.mark_chain_precision_from(v, v.state, -1, bt)
    return sp.s.var_off.value


# ---- memory named by an argument ---------------------------------------
def check_helper_mem_access(v, regno: int, size: int, write: bool, zero_ok: bool, meta) -> None:
    st = v.state
    reg = st.frames[st.curframe].regs[regno]
    b = reg.type & R.BASE_MASK
    if b in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META):
        from .packet import check_packet_access

        check_packet_access(v, reg, regno, reg.off, size, zero_ok)
        return
    if b == R.PTR_TO_MAP_KEY:
        if write:
            v.err(f"R{regno} cannot write into {R.type_str(reg.type)}")
        _mem_region(v, reg, regno, size, reg.map.key_size, zero_ok, "memory")
        return
    if b == R.PTR_TO_MAP_VALUE:
        _map_value_access(v, reg, regno, size, write, zero_ok)
        return
    if b == R.PTR_TO_MEM:
        if reg.type & R.MEM_RDONLY and write:
            v.err(f"R{regno} cannot write into {R.type_str(reg.type)}")
        _mem_region(v, reg, regno, size, reg.mem_size, zero_ok, "memory")
        return
    if b == R.PTR_TO_STACK:
        check_stack_range(v, reg, regno, reg.off, size, zero_ok, write, meta)
        return
    if b in (R.PTR_TO_BUF, R.PTR_TO_BTF_ID, R.PTR_TO_ARENA):
        _nm(f"helper access through {R.type_str(reg.type)}")
    if zero_ok and size == 0 and _is_null(reg):
        return
    v.err(f"R{regno} type={R.type_str(reg.type)} expected={R.type_str(R.PTR_TO_STACK)}")


def _mem_region(v, reg, regno: int, size: int, mem_size: int, zero_ok: bool, what: str) -> None:
    from .memory import check_mem_region_access

    check_mem_region_access(v, reg, regno, reg.off, size, mem_size, zero_ok)


def _map_value_access(v, reg, regno: int, size: int, write: bool, zero_ok: bool) -> None:
    m = reg.map
    off = reg.off
    if write and m.flags & M.BPF_F_RDONLY_PROG:
        v.err(f"write into map forbidden, value_size={m.value_size} off={off} size={size}")
    if not write and not m.flags & M.BPF_F_RDONLY_PROG and m.flags & M.BPF_F_WRONLY_PROG:
        v.err(f"read from map forbidden, value_size={m.value_size} off={off} size={size}")
    _mem_region(v, reg, regno, size, m.value_size, zero_ok, "map value")
    if m.record is not None:  # spin lock, timer, ...: helpers may not touch them either
        from .mapvalue import check_fields

        check_fields(v, reg, reg.off, size, direct=False)


def check_stack_range(v, reg, regno: int, off: int, size: int, zero_ok: bool, write: bool, meta) -> None:
    """check_stack_range_initialized for a constant-offset stack pointer."""
    if size == 0 and not zero_ok:
        v.err("invalid zero-sized read")
    if reg.s.var_off.mask:
        # variable offsets: no raw mode, every byte must be initialised (the memory module's check)
        from .memory import range_initialized

        range_initialized(v, reg, regno, off, size, zero_ok, write)
        return
    f = v.state.frames[reg.frameno]
    min_off = reg.s.var_off.value + off
    max_off = min_off + size
    word = " write to" if write else " read from"
    if min_off < -MAX_BPF_STACK or min_off > -1:
        v.err(f"invalid{word} stack R{regno} off={off} size={size}")
    if max_off > 0:
        v.err(f"invalid{word} stack R{regno} off={off} size={size}", EINVAL)
    grow(v, f, -min_off)
    if meta is not None and meta.raw_mode:
        meta.access_size = size
        meta.regno = regno
        return
    marked = 0
    stack = f.stack
    for i in range(min_off, min_off + size):
        slot = -i - 1
        spi = slot // 8
        sl = stack[spi]
        t = sl.types[slot % 8]
        if t == STACK_MISC:
            pass
        elif t in (STACK_ZERO, STACK_INVALID):
            if write:
                ty = list(sl.types)
                ty[slot % 8] = STACK_MISC
                stack[spi] = Slot(tuple(ty), sl.spilled)
        elif sl.types[7] == STACK_SPILL:
            if write:  # the spilled register becomes unknown and the slot plain data
                stack[spi] = Slot(tuple(STACK_MISC if x != STACK_INVALID else x for x in sl.types),
                                  R.scalar_unknown())
        else:
            v.err(f"invalid read from stack R{regno} off {min_off}+{i - min_off} size {size}")
        marked |= 1 << spi
    if marked:
        v.live.mark_read(v.insn_idx, marked, reg.frameno)


def _raw_mode_writes(v, meta: Meta) -> None:
    """Byte-wise writes of an uninitialised-memory argument (check_mem_access with BPF_B, BPF_WRITE)."""
    reg = v.state.cur.regs[meta.regno]
    if reg.type != R.PTR_TO_STACK:
        return  # other memory kinds were fully checked already and keep their state
    f = v.state.frames[reg.frameno]
    base = reg.off + reg.s.var_off.value
    for i in range(meta.access_size):
        o = base + i
        slot = -o - 1
        spi = slot // 8
        sl = f.stack[spi]
        ty = list(sl.types)
        if ty[7] == STACK_SPILL or sl.spilled is not None:
            ty = [STACK_MISC if x != STACK_INVALID else x for x in ty]
        ty[slot % 8] = STACK_MISC
        f.stack[spi] = Slot(tuple(ty), None)
        v.scratched_stack |= 1 << spi


# ---- maps and tail calls -------------------------------------------------
_MAP_FUNCS = frozenset({12, 1, 2, 3, 87, 88, 89, 164, 51, 195})


def _record_func_map(v, meta: Meta) -> None:
    """A helper of ``_MAP_FUNCS``: its map argument, and no write into a map the program may only read."""
    fid = meta.func_id
    m = meta.map
    if m is None:
        v.err("kernel subsystem misconfigured verifier", EINVAL)
    if m.flags & M.BPF_F_RDONLY_PROG and fid in (3, 2, 87, 88):
        v.err("write into map forbidden")


def _record_func_key(v, meta: Meta) -> None:
    """bpf_tail_call: its map must be a program array; a constant index is marked precise."""
    m = meta.map
    if m is None or m.type != M.PROG_ARRAY:
        v.log.write("expected prog array map for tail call")
        from .verifier import Reject

        raise Reject(EINVAL, "expected prog array map for tail call")
    r3 = v.state.cur.regs[3]
    if r3.type == R.SCALAR and not r3.s.var_off.mask and 0 <= r3.s.var_off.value < m.max_entries:
        mark_precise(v, 3)


def _check_map_func_compat(v, m, fid: int, name: str) -> None:
    """The helper may be used with map ``m``'s type."""
    ok = M.func_allowed_for_map(m.type, fid)
    if ok is None:  # update or delete on a sockmap/sockhash
        if M.may_update_sockmap(v.prog.prog_type, v.prog.expected_attach_type or 0, fid):
            return
        v.log.write("cannot update sockmap in this context\n")
        ok = False
    if ok is None:
        _nm(f"{name} on map type {m.type}")
    if not ok:
        v.err(f"cannot pass map_type {m.type} into func {name}#{fid}", EINVAL)
