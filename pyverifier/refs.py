"""Acquired references: the ids a path holds (socket lookups, ringbuf reservations, spin locks).

A path's references are ``state.refs``, a tuple of ``Ref`` in acquisition
order (the kernel's ``acquired_refs``): a pointer reference (``REF_PTR``) or a
held ``bpf_spin_lock`` (``REF_LOCK``, see ``pyverifier.locks``, whose ``ptr``
is the map). Releasing a pointer reference turns every register and spilled
register carrying it (``ref_obj_id``) into an unknown scalar (privileged
``mark_reg_invalid``); the ``== NULL`` branch of a null check drops the
reference of the pointer it proves NULL. A path that ends while holding
pointer references prints one ``Unreleased reference`` line for each.
"""
from __future__ import annotations

from typing import NamedTuple

from . import maps as M
from . import regs as R
from .stack import Slot

EINVAL = 22
REF_PTR = 1 << 1
REF_LOCK = 1 << 3


class Ref(NamedTuple):
    id: int
    insn_idx: int
    type: int = REF_PTR
    ptr: object = None  # a lock's map (compared by identity, like the kernel's pointer)


def acquire_reference(v, insn_idx: int) -> int:
    v.id_gen += 1
    rid = v.id_gen
    v.state.refs = v.state.refs + (Ref(rid, insn_idx),)
    return rid


def _drop(st, rid: int) -> bool:
    refs = st.refs
    for k, r in enumerate(refs):
        if r.id == rid and r.type == REF_PTR:
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
    """mark_ptr_not_null_reg on a register proved non-NULL (its id is dropped, unless it points into a map
    value holding a spin lock: locks are told apart by that id)."""
    if R.base_type(r.type) == R.PTR_TO_MAP_VALUE and r.map is not None and r.map.inner is not None:
        return r.replace(type=R.CONST_PTR_TO_MAP, map=r.map.inner, id=0)
    t = not_null_type(r)
    if t == R.PTR_TO_MAP_VALUE and r.map.has_lock:
        return r.replace(type=t)
    return r.replace(type=t, id=0)


def not_null_type(r) -> int:
    """mark_ptr_not_null_reg: what a pointer proved non-NULL becomes (a sockmap lookup gives a socket)."""
    if R.base_type(r.type) == R.PTR_TO_MAP_VALUE and r.map is not None:
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


def report_leaks(v) -> bool:
    leaked = False
    for r in v.state.refs:
        if r.type == REF_PTR:
            v.log.write(f"Unreleased reference id={r.id} alloc_insn={r.insn_idx}\n")
            leaked = True
    return leaked


def holds_lock(st) -> bool:
    return any(r.type == REF_LOCK for r in st.refs)


def check_resource_leak(v, prefix: str) -> None:
    """check_resource_leak: a held spin lock (any frame), then unreleased references (main frame only)."""
    st = v.state
    if st.refs:
        if holds_lock(st):
            v.err(f"{prefix} cannot be used inside bpf_spin_lock-ed region", EINVAL)
        if st.curframe == 0 and report_leaks(v):
            v.err(f"{prefix} would lead to reference leak", EINVAL)
    if st.active_rcu_locks:
        v.err(f"{prefix} cannot be used inside bpf_rcu_read_lock-ed region", EINVAL)
    if st.active_preempt_locks:
        v.err(f"{prefix} cannot be used inside bpf_preempt_disable-ed region", EINVAL)


def format_refs(st) -> str:
    """The state line's ``refs=``: only when the first reference has an id; ids of 0 are skipped."""
    refs = st.refs
    if not refs or not refs[0].id:
        return ""
    return " refs=" + ",".join(str(r.id) for r in refs if r.id)
