"""``bpf_spin_lock``: the lock a path holds and the rules around it (6.18).

A map whose value holds a ``struct bpf_spin_lock`` (found in its BTF by
``pyverifier.btf_fields``) can be locked with ``bpf_spin_lock(&value->lock)``
and unlocked with ``bpf_spin_unlock``. The verifier tells locks apart by the
map and the id of the pointer to the value: a lookup in such a map keeps its
id after the null check (``refs.not_null_reg``), and a lookup that cannot
return NULL gets one too (``value_id``).

Taking a lock adds a ``REF_LOCK`` entry (id, map) to the path's references
(``pyverifier.refs``): so the state line prints ``refs=<id>`` while it is held
and pruning compares held locks like the kernel's refsafe(). While a lock is
held no helper other than ``bpf_spin_unlock`` may be called (bpf-to-bpf calls
may), and neither ``exit`` from the main program nor ``LD_ABS``/``LD_IND`` may
run (``refs.check_resource_leak``).

Loads and stores that touch the lock (or any other special field) are refused
by ``pyverifier.mapvalue.check_fields``.
"""
from __future__ import annotations

from . import regs as R
from .mapvalue import check_field_pointer
from .refs import REF_LOCK, Ref, holds_lock

EINVAL = 22
BPF_FUNC_spin_unlock = 94
BPF_PSEUDO_KFUNC_CALL = 2


def value_id(v, m) -> int:
    """The id a non-NULL map value pointer gets from a helper: a fresh one when the value holds a lock."""
    if m.has_lock:
        v.id_gen += 1
        return v.id_gen
    return 0


def check_call(v, ins) -> None:
    """do_check at a call while a lock is held: only bpf_spin_unlock and bpf-to-bpf calls may run."""
    if not holds_lock(v.state):
        return
    if (ins.src == 0 and ins.imm != BPF_FUNC_spin_unlock) or (ins.src == BPF_PSEUDO_KFUNC_CALL and ins.off != 0):
        v.err("function calls are not allowed while holding a lock", EINVAL)
    if ins.src == BPF_PSEUDO_KFUNC_CALL:
        from .verifier import NotModelled

        raise NotModelled("kfunc calls while holding a bpf_spin_lock")


def process_spin_lock(v, regno: int, is_lock: bool) -> None:
    """The ARG_PTR_TO_SPIN_LOCK argument of bpf_spin_lock (``is_lock``) or bpf_spin_unlock."""
    reg = v.state.cur.regs[regno]
    if R.base_type(reg.type) != R.PTR_TO_MAP_VALUE:
        if reg.s.var_off.mask:
            v.err(f"R{regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset", EINVAL)
        from .verifier import NotModelled

        raise NotModelled("bpf_spin_lock in allocated objects")
    m = reg.map
    rec = m.record
    check_field_pointer(v, regno, "bpf_spin_lock", rec.spin_lock_off if rec is not None else -1)
    st = v.state
    if is_lock:
        if holds_lock(st):
            v.err("Locking two bpf_spin_locks are not allowed", EINVAL)
        st.refs = st.refs + (Ref(reg.id, v.insn_idx, REF_LOCK, m),)
        return
    if not holds_lock(st):
        v.err("bpf_spin_unlock without taking a lock", EINVAL)
    refs = st.refs
    for k, r in enumerate(refs):
        if r.type == REF_LOCK and r.id == reg.id and r.ptr is m:
            st.refs = refs[:k] + refs[k + 1:]
            return
    v.err("bpf_spin_unlock of different lock", EINVAL)
