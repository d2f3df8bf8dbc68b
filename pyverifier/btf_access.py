"""Loads through pointers to kernel objects (``PTR_TO_BTF_ID``): the walk of a struct by its BTF.

A pointer to a kernel object knows the object's type (a STRUCT or UNION of the
kernel's BTF, its id kept in ``Reg.mem_size``). Reading ``off``/``size`` bytes
from it walks the type's members: the bytes must lie in one member; a member
that is a pointer to a struct gives another BTF pointer (with the trust flags
the kernel decides, see ``load_flags``), anything else a scalar. The rules and
the log lines follow the live kernel (``btf_struct_walk``, ``btf_struct_access``,
``check_ptr_to_btf_access``, ``btf_struct_ids_match``); every rejection here is
measured against it in ``tests/test_verifier_btf_ptr.py``.
"""
from __future__ import annotations

from errno import EACCES, EFAULT, EINVAL

from . import helpers as H
from . import regs as R
from .uapi import PROG_TYPES
from .btf import (ARRAY, CONST, ENUM, ENUM64, FLOAT, INT, PTR, RESTRICT, STRUCT, TYPE_TAG, TYPEDEF, UNION, VOLATILE, Btf,
                  BtfError)

WALK_SCALAR, WALK_PTR, WALK_PTR_UNTRUSTED, WALK_STRUCT = 0, 1, 2, 3

_MODIFIERS = frozenset((TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG))
_COMPOSITE = frozenset((STRUCT, UNION))
_SIZED = frozenset((INT, STRUCT, UNION, ENUM, FLOAT, ENUM64))
_TRUSTED_MODIFIERS = R.MEM_ALLOC | R.PTR_TRUSTED
_TAG_FLAGS = {"user": R.MEM_USER, "percpu": R.MEM_PERCPU, "rcu": R.MEM_RCU}


class WalkError(Exception):
    """The access is refused: ``lines`` are what the kernel logs, ``errno`` what it returns."""

    def __init__(self, lines: list[str], errno: int):
        super().__init__(lines[-1] if lines else "")
        self.lines = lines
        self.errno = errno


def skip_modifiers(btf: Btf, tid: int):
    """(id, type) after typedefs, qualifiers and type tags (the kernel's btf_type_skip_modifiers)."""
    return btf.skip_mods_and_typedefs(tid)


def type_name(btf: Btf, tid: int) -> str:
    try:
        return btf.type(tid).name
    except BtfError:
        return ""


def _resolve_size(btf: Btf, tid: int):
    """The kernel's __btf_resolve_size for a member of type ``tid``: (resolved type, byte size,
    innermost element type, its id (arrays only, else 0), element count, type id after modifiers)."""
    t = btf.type(tid)
    array_type = None
    last_array = None
    nelems = 1
    mod_id = 0
    for _ in range(32):
        k = t.kind
        if k in _SIZED or k == PTR:
            size = 8 if k == PTR else t.size_type
            total = nelems * size
            if total > 0xFFFFFFFF:
                raise BtfError("size overflows 32 bits")
            elem_id = last_array.extra[0] if last_array is not None else 0
            return (array_type or t), total, t, elem_id, nelems, (mod_id or tid)
        if k in _MODIFIERS:
            mod_id = t.size_type
            t = btf.type(t.size_type)
        elif k == ARRAY:
            if array_type is None:
                array_type = t
            last_array = t
            n = t.extra[2]
            if nelems and n > 0xFFFFFFFF // nelems:
                raise BtfError("array size overflows 32 bits")
            nelems *= n
            t = btf.type(t.extra[0])
        else:
            raise BtfError("type without size")
    raise BtfError("type chain too deep")


def struct_walk(btf: Btf, t, off: int, size: int, flag: int, log: list[str]):
    """One step of the kernel's btf_struct_walk from type ``t`` (a BtfType): (kind, next id, flag, field name).
    Raises WalkError; lines it logs without failing go to ``log``."""
    while True:
        if t.kind in _MODIFIERS:
            _, t = skip_modifiers(btf, t.size_type)
        tname = t.name or "(anon)"
        if t.kind not in _COMPOSITE:
            raise WalkError(log + [f"Type '{tname}' is not a struct"], EINVAL)
        vlen = t.vlen
        if t.kind == UNION and vlen != 1 and not flag & R.PTR_UNTRUSTED:
            flag |= R.PTR_UNTRUSTED  # walking a union makes its pointers untrusted
        if off + size > t.size_type:
            nt = _flex_array_elem(btf, t, off)
            if nt is None:
                raise WalkError(log + [f"access beyond struct {tname} at off {off} size {size}"], EACCES)
            if nt is WALK_SCALAR:
                return WALK_SCALAR, 0, flag, None
            t, off = nt
            continue
        nested = None
        for i in range(vlen):
            mname, mtid, _ = t.members[i]
            mname = mname or "(anon)"
            bit_off = t.member_bit_offset(i)
            moff = bit_off // 8
            if off + size <= moff:
                break
            bfs = t.member_bitfield_size(i)
            if bfs:
                if off <= moff and (bit_off + bfs + 7) // 8 <= off + size:
                    return WALK_SCALAR, 0, flag, None
                continue
            if off < moff:
                break
            try:
                mtype, msize, elem_type, elem_id, total, mid = _resolve_size(btf, mtid)
            except BtfError:
                raise WalkError(log + [f"field {mname} doesn't have size"], EFAULT) from None
            mtrue_end = moff + msize
            if off >= mtrue_end:
                continue
            if mtype.kind == ARRAY:
                if moff == mtrue_end:
                    continue
                msize //= total
                moff += (off - moff) // msize * msize
                mtype, mid = elem_type, elem_id
            if mtype.kind in _COMPOSITE:
                if off == moff:
                    return WALK_STRUCT, mid, flag, None
                nested = (mtype, off - moff)
                break
            if mtype.kind == PTR:
                if msize != size or off != moff:
                    raise WalkError(log + [f"cannot access ptr member {mname} with moff {moff} in struct {tname} "
                                           f"with off {off} size {size}"], EACCES)
                tag = btf.type(mtype.size_type)
                tag_flag = _TAG_FLAGS.get(tag.name, 0) if tag.kind == TYPE_TAG and not tag.kflag else 0
                sid, stype = skip_modifiers(btf, mtype.size_type)
                if stype.kind in _COMPOSITE:
                    return WALK_PTR, sid, flag | tag_flag, mname
                return WALK_PTR_UNTRUSTED, 0, flag, None  # a pointer to anything else: read-only memory
            if off + size > mtrue_end and not flag & R.PTR_UNTRUSTED:
                raise WalkError(log + [f"access beyond the end of member {mname} (mend:{mtrue_end}) in struct "
                                       f"{tname} with off {off} size {size}"], EACCES)
            return WALK_SCALAR, 0, flag, None
        if nested is None:
            raise WalkError(log + [f"struct {tname} doesn't have field at offset {off}"], EINVAL)
        t, off = nested


def _flex_array_elem(btf: Btf, t, off: int):
    """An access past a struct's end may land in its trailing flexible array: (element type, offset
    in it), WALK_SCALAR for an array of integers, None when it does not."""
    if not t.vlen:
        return None
    last = t.vlen - 1
    _, mtype = skip_modifiers(btf, t.members[last][1])
    if mtype.kind != ARRAY or mtype.extra[2] != 0:
        return None
    moff = t.member_bit_offset(last) // 8
    if off < moff:
        return None
    _, et = skip_modifiers(btf, mtype.extra[0])
    if et.kind == INT:
        return WALK_SCALAR
    if et.kind not in _COMPOSITE or not et.size_type:  # (the kernel would divide by a zero size)
        return None
    return et, (off - moff) % et.size_type


def struct_access(btf: Btf, tid: int, off: int, size: int):
    """btf_struct_access for a kernel object: (R.SCALAR, 0, 0, None), (R.PTR_TO_BTF_ID, id, flags, field) or,
    for a pointer to something other than a struct, (R.PTR_TO_MEM, 0, MEM_RDONLY | PTR_UNTRUSTED, None)."""
    flag = 0
    t = btf.type(tid)
    log: list[str] = []
    while True:
        kind, nid, flag, field = struct_walk(btf, t, off, size, flag, log)
        if kind == WALK_PTR:
            return R.PTR_TO_BTF_ID, nid, flag, field
        if kind == WALK_PTR_UNTRUSTED:
            return R.PTR_TO_MEM, 0, R.MEM_RDONLY | R.PTR_UNTRUSTED, None
        if kind == WALK_SCALAR:
            return R.SCALAR, 0, 0, None
        t = btf.type(nid)
        off = 0


def struct_ids_match(btf: Btf, tid: int, off: int, need: int, strict: bool) -> tuple[bool, list[str]]:
    """btf_struct_ids_match: does the object at ``off`` of type ``tid`` start with a ``need`` (its first
    members, nested)? Returns the answer and the lines the walk logged on the way."""
    if off == 0 and tid == need:
        return True, []
    if strict:
        return False, []
    while True:
        try:
            kind, tid, _, _ = struct_walk(btf, btf.type(tid), off, 1, 0, [])
        except WalkError as e:
            return False, e.lines
        if kind != WALK_STRUCT:
            return False, []
        if tid == need:
            return True, []
        off = 0


def nested_type_is_trusted(btf: Btf, parent_id: int, field: str | None, tid: int, suffix: str) -> bool:
    """btf_nested_type_is_trusted: the kernel lists the pointer fields that keep their parent's trust in
    types named ``<parent>__safe_trusted`` (and ``__safe_rcu``, ...) of its BTF."""
    if field is None:
        return False
    try:
        parent = btf.type(parent_id)
    except BtfError:
        return False
    name = parent.name + suffix
    if len(name) >= 64:
        return False
    for sid in btf.find(name, parent.kind)[:1]:
        for mname, mtid, _ in btf.type(sid).members:
            mt = btf.type(mtid)
            if mt.kind != PTR:
                continue
            if skip_modifiers(btf, mt.size_type)[0] == tid and mname == field:
                return True
    return False


def is_trusted_reg(reg) -> bool:
    if reg.ref_obj_id:
        return True
    f = reg.type & ~R.BASE_MASK
    return bool(f & _TRUSTED_MODIFIERS) and not f & ~_TRUSTED_MODIFIERS


def load_flags(btf: Btf, reg, field: str | None, tid: int, flag: int, in_rcu_cs: bool) -> int:
    """The flags of a pointer read from a field of ``reg``'s object (check_ptr_to_btf_access)."""
    rt = reg.type
    if rt & R.PTR_UNTRUSTED:
        return R.PTR_UNTRUSTED
    if not (is_trusted_reg(reg) or rt & R.MEM_RCU):
        return flag & ~(_TRUSTED_MODIFIERS | R.MEM_RCU)
    parent = reg.mem_size
    if nested_type_is_trusted(btf, parent, field, tid, "__safe_trusted"):
        return flag | R.PTR_TRUSTED
    if nested_type_is_trusted(btf, parent, field, tid, "__safe_trusted_or_null"):
        return flag | R.PTR_TRUSTED | R.PTR_MAYBE_NULL
    if not in_rcu_cs or rt & R.PTR_MAYBE_NULL:
        return R.PTR_UNTRUSTED
    if nested_type_is_trusted(btf, parent, field, tid, "__safe_rcu"):
        return flag | R.MEM_RCU
    rcu_or_null = nested_type_is_trusted(btf, parent, field, tid, "__safe_rcu_or_null")
    if flag & R.MEM_RCU or rcu_or_null:
        flag |= R.MEM_RCU | R.PTR_MAYBE_NULL
        if rcu_or_null:
            flag &= ~R.PTR_UNTRUSTED
        return flag
    if flag & (R.MEM_PERCPU | R.MEM_USER):
        return flag
    return flag & ~(_TRUSTED_MODIFIERS | R.MEM_RCU)


# ---- the verifier's side ---------------------------------------------------------
def kernel_btf(v) -> Btf:
    from . import kbtf

    btf = kbtf.get()
    if btf is None:
        from .verifier import NotModelled

        raise NotModelled("pointers to kernel objects without the kernel's BTF")
    return btf


def _refuse(v, e: WalkError) -> None:
    for line in e.lines[:-1]:
        v.log.write(line + "\n")
    v.err(e.lines[-1], e.errno)


def mark_btf_ld_reg(v, regno: int, kind: int, tid: int, flag: int) -> None:
    """The register a load from a kernel object leaves: a scalar, or a pointer to the field's object."""
    if kind == R.SCALAR:
        v.set_reg(regno, R.scalar_unknown())
        return
    if kind == R.PTR_TO_MEM:  # read-only memory of unknown size (the kernel reads it with probe instructions)
        v.set_reg(regno, R.pointer(R.PTR_TO_MEM | flag, mem_size=0))
        return
    r = R.pointer(R.PTR_TO_BTF_ID | flag, mem_size=tid)
    if flag & R.PTR_MAYBE_NULL:
        v.id_gen += 1
        r = r.replace(id=v.id_gen)
    v.set_reg(regno, r)


def mark_ctx_btf_reg(v, regno: int, rtype: int, struct: str | int) -> None:
    """A context field that points to a kernel object of type ``struct`` (a name or a kernel BTF id)."""
    if isinstance(struct, str):
        from .btf import STRUCT

        ids = kernel_btf(v).find(struct, STRUCT)
        if not ids:
            from .verifier import NotModelled

            raise NotModelled(f"struct {struct} is not in the kernel's BTF")
        struct = ids[0]
    r = R.pointer(rtype, mem_size=struct)
    if rtype & R.PTR_MAYBE_NULL:
        v.id_gen += 1
        r = r.replace(id=v.id_gen)
    v.set_reg(regno, r)


def in_rcu_cs(v) -> bool:
    from .uapi import PROG_FLAGS

    return bool(v.state.active_rcu_locks) or not (v.prog.prog_flags or 0) & PROG_FLAGS["sleepable"]


# program types with their own rules for writes into kernel objects (tc: skb->mark, ...; xdp; struct_ops)
_OWN_BTF_WRITES = frozenset(PROG_TYPES[n] for n in ("sched_cls", "sched_act", "xdp", "struct_ops"))


def check_ptr_to_btf_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """A load or store through a pointer to a kernel object (``off`` includes ``reg.off``)."""

    btf = kernel_btf(v)
    tname = type_name(btf, reg.mem_size)
    if not H.gpl_compatible(v.prog.license):
        v.err(f"Cannot access kernel 'struct {tname}' from non-GPL compatible program", EINVAL)
    if off < 0:
        v.err(f"R{regno} is ptr_{tname} invalid negative access: off={off}")
    vo = reg.s.var_off
    if vo.mask or vo.value:
        from .log import fmt_tnum

        v.err(f"R{regno} is ptr_{tname} invalid variable offset: off={off}, var_off={fmt_tnum(vo.value, vo.mask)}")
    if reg.type & R.MEM_USER:
        v.err(f"R{regno} is ptr_{tname} access user memory: off={off}")
    if reg.type & R.MEM_PERCPU:
        v.err(f"R{regno} is ptr_{tname} access percpu memory: off={off}")
    if reg.type & R.MEM_ALLOC:
        from .verifier import NotModelled

        raise NotModelled("objects allocated by the program (bpf_obj_new)")
    if write:
        if reg.type & R.PTR_UNTRUSTED:
            v.err("only read is supported")
        if v.prog.prog_type in _OWN_BTF_WRITES:
            from .verifier import NotModelled

            raise NotModelled(f"writes into kernel 'struct {tname}' (the program type's btf_struct_access)")
        v.err("only read is supported")
    try:
        kind, tid, flag, field = struct_access(btf, reg.mem_size, off, size)
    except WalkError as e:
        _refuse(v, e)
    if kind == R.PTR_TO_BTF_ID:
        flag = load_flags(btf, reg, field, tid, flag, in_rcu_cs(v))
    if value_regno >= 0:
        mark_btf_ld_reg(v, value_regno, kind, tid, flag)


def check_ptr_to_map_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int,
                            struct_name: str | None) -> None:
    """A load from a map pointer reads the kernel's map structure (``struct bpf_array``, ...) through its BTF."""
    from .verifier import NotModelled

    if struct_name is None:
        raise NotModelled("map_ptr access for this map type")
    if off < 0:
        v.err(f"R{regno} is {struct_name} invalid negative access: off={off}")
    if write:
        v.err(f"only read from {struct_name} is supported")
    btf = kernel_btf(v)
    ids = btf.find(struct_name, STRUCT)
    if not ids:
        raise NotModelled(f"map_ptr access: no struct {struct_name} in the kernel's BTF")
    try:
        kind, tid, flag, _ = struct_access(btf, ids[0], off, size)
    except WalkError as e:
        _refuse(v, e)
    if value_regno >= 0:
        mark_btf_ld_reg(v, value_regno, kind, tid, flag)
