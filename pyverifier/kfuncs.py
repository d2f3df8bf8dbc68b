"""kfunc calls (BPF_PSEUDO_KFUNC_CALL): the kernel functions pyverifier models, by name.

A kfunc's rules live in the kernel's kfunc id sets (flags such as KF_ACQUIRE), not in its
BTF, so each modelled kfunc is an entry here; any other kfunc is "not modelled". A call of BTF id 0
(a weak kfunc libbpf could not resolve) is accepted as long as no path reaches it; a program where
one does is refused after its verification, as the kernel does when it patches kfunc calls. Modelled:
the numeric open-coded iterator (``bpf_iter_num_*``, ``pyverifier.iters``), the RCU read-side section (``bpf_rcu_read_lock``/``_unlock``: one level, no nesting) and
preemption (``bpf_preempt_disable``/``_enable``: nested, counted). The main program may
not exit inside either (``refs.check_resource_leak``), and states are equal only with
the same counts (``prune.states_equal``).
"""
from __future__ import annotations

from . import kbtf

EINVAL = 22
_ITERS = {"bpf_iter_num_new": "iter_new", "bpf_iter_num_next": "iter_next", "bpf_iter_num_destroy": "iter_destroy"}

MODELLED = frozenset({"bpf_rcu_read_lock", "bpf_rcu_read_unlock", "bpf_preempt_disable",
                      "bpf_preempt_enable"}) | frozenset(_ITERS)


def name_of(btf_id: int) -> str | None:
    f = kbtf.func(btf_id)
    return f[0] if f is not None else None


def num_params(btf_id: int) -> int | None:
    f = kbtf.func(btf_id)
    return f[1] if f is not None else None


def not_modelled_reason(ins) -> str | None:
    """Why pyverifier cannot verify this kfunc call, or None when it can."""
    if ins.imm == 0 and ins.off == 0:
        return None  # a call libbpf left unresolved (a weak kfunc): fine while no path reaches it
    if kbtf.get() is None:
        return "kfunc calls (the kernel's BTF was not given to pyverifier)"
    name = name_of(ins.imm)
    if name is None:
        return f"kfunc call of BTF id {ins.imm} (not a function of the kernel's BTF)"
    if name not in MODELLED:
        return f"kfunc {name}"
    return None


def check_kfunc_call(v, ins) -> None:
    if ins.imm == 0:  # an unresolved call: nothing happens now, the program is refused after verification
        v.kfunc_zero_reached = True
        return
    name = name_of(ins.imm)
    st = v.state
    if name in _ITERS:
        from . import iters

        getattr(iters, _ITERS[name])(v, ins)
        return
    if name == "bpf_rcu_read_lock":
        if st.active_rcu_locks:
            v.err(f"nested rcu read lock (kernel function {name})", EINVAL)
        st.active_rcu_locks = 1
    elif name == "bpf_rcu_read_unlock":
        if not st.active_rcu_locks:
            v.err(f"unmatched rcu read unlock (kernel function {name})", EINVAL)
        st.active_rcu_locks = 0
    elif name == "bpf_preempt_disable":
        st.active_preempt_locks += 1
    elif name == "bpf_preempt_enable":
        if not st.active_preempt_locks:
            v.err(f"unmatched attempt to enable preemption (kernel function {name})", EINVAL)
        st.active_preempt_locks -= 1
    v.clear_caller_saved(st.cur.regs)  # these kfuncs return nothing
