"""Acquired references: the ids a path holds (socket lookups, ringbuf reservations) and their release.

A path's references are ``state.refs``, a tuple of ``(id, insn_idx)`` in
acquisition order (the kernel's ``acquired_refs``). Releasing one turns every
register and spilled register carrying it (``ref_obj_id``) into an unknown
scalar (privileged ``mark_reg_invalid``); the ``== NULL`` branch of a null
check drops the reference of the pointer it proves NULL. A path that ends
while holding references prints one ``Unreleased reference`` line for each.
"""
from __future__ import annotations

from . import regs as R
from .stack import Slot

EINVAL = 22


def acquire_reference(v, insn_idx: int) -> int:
    v.id_gen += 1
    rid = v.id_gen
    v.state.refs = v.state.refs + ((rid, insn_idx),)
    return rid


def _drop(st, rid: int) -> bool:
    refs = st.refs
    for k, (i, _) in enumerate(refs):
        if i == rid:
            st.refs = refs[:k] + refs[k + 1:]
            return True
    return False


def release_reference(v, rid: int) -> bool:
    st = v.state
    if not _drop(st, rid):
        return False
    unknown = R.scalar_unknown()

    def fix(r):
        if r is not None and r.type != R.SCALAR and r.ref_obj_id == rid:
            return unknown
        return r

    for f in st.frames:  # in place: callers hold the register list of the current frame
        f.regs[:] = [fix(r) for r in f.regs]
        f.stack[:] = [Slot(s.types, fix(s.spilled)) if s.spilled is not None and s.spilled.ref_obj_id == rid
                      else s for s in f.stack]
    return True


def not_null_reg(r):
    """mark_ptr_not_null_reg on a register proved non-NULL (its id is dropped)."""
    if R.base_type(r.type) == R.PTR_TO_MAP_VALUE and r.map is not None and r.map.inner is not None:
        return r.replace(type=R.CONST_PTR_TO_MAP, map=r.map.inner, id=0)
    return r.replace(type=not_null_type(r), id=0)


def not_null_type(r) -> int:
    """mark_ptr_not_null_reg: what a pointer proved non-NULL becomes (a sockmap lookup gives a socket)."""
    if R.base_type(r.type) == R.PTR_TO_MAP_VALUE and r.map is not None:
        from . import maps as M

        if r.map.type in M.SOCK_MAP_TYPES:
            return R.PTR_TO_SOCKET
        if r.map.type == M.T["xskmap"]:
            return R.PTR_TO_XDP_SOCK
        return R.PTR_TO_MAP_VALUE
    return r.type & ~R.PTR_MAYBE_NULL


def on_null_check(st, id_: int, is_null: bool) -> None:
    """The ``== NULL`` branch of a referenced pointer's null check holds no reference any more."""
    if is_null and st.refs:
        _drop(st, id_)


def report_leaks(v) -> None:
    for rid, idx in v.state.refs:
        v.log.write(f"Unreleased reference id={rid} alloc_insn={idx}\n")


def check_resource_leak(v, prefix: str) -> None:
    if v.state.refs:
        report_leaks(v)
        v.err(f"{prefix} would lead to reference leak", EINVAL)


def format_refs(st) -> str:
    if not st.refs:
        return ""
    return " refs=" + ",".join(str(i) for i, _ in st.refs)
