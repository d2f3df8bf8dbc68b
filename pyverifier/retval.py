"""What a program must return: the kernel's check_return_code() per program and attach type.

``check_exit(v)`` runs at every ``exit`` of the main frame: first the leak check
of acquired references, then R0 must be readable and, for the program types
that constrain it, a scalar within the allowed range (marked precise first,
as the kernel does). Ranges are those of Linux 6.18.
"""
from __future__ import annotations

from . import refs, subprog, uapi
from . import regs as R
from .calls import _nm, mark_precise
from .ctx import effective_attach_type

EINVAL = 22
S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1

_T = uapi.PROG_TYPES
_A = uapi.ATTACH_TYPES

_SOCK_ADDR_1_1 = frozenset(_A[n] for n in (
    "cgroup_udp4_recvmsg", "cgroup_udp6_recvmsg", "cgroup_unix_recvmsg", "cgroup_inet4_getpeername",
    "cgroup_inet6_getpeername", "cgroup_unix_getpeername", "cgroup_inet4_getsockname", "cgroup_inet6_getsockname",
    "cgroup_unix_getsockname"))
_SOCK_ADDR_BIND = frozenset({_A["cgroup_inet4_bind"], _A["cgroup_inet6_bind"]})
_ZERO_ONE = frozenset(_T[n] for n in ("cgroup_sock", "sock_ops", "cgroup_device", "cgroup_sysctl", "cgroup_sockopt"))


def return_range(prog_type: int, attach_type: int):
    """(min, max) R0 must lie in at program exit, None when anything goes, NOT_MODELLED if unknown here."""
    if prog_type == _T["cgroup_sock_addr"]:
        if attach_type in _SOCK_ADDR_1_1:
            return (1, 1)
        if attach_type in _SOCK_ADDR_BIND:
            return (0, 3)
        return (0, 1)
    if prog_type == _T["cgroup_skb"]:
        return (0, 3) if attach_type == _A["cgroup_inet_egress"] else (0, 1)
    if prog_type in _ZERO_ONE:
        return (0, 1)
    if prog_type == _T["kprobe"]:
        if attach_type in (_A["trace_kprobe_session"], _A["trace_uprobe_session"]):
            return (0, 1)
        return None
    if prog_type == _T["sk_lookup"]:
        return (0, 1)  # SK_DROP, SK_PASS
    if prog_type == _T["netfilter"]:
        return (0, 1)  # NF_DROP, NF_ACCEPT
    if prog_type == _T["tracing"] and attach_type == _A["trace_raw_tp"]:
        return None  # tp_btf: any value
    if prog_type == _T["tracing"] and attach_type == _A["trace_iter"]:
        return (0, 1)
    if prog_type in (_T["tracing"], _T["lsm"], _T["struct_ops"], _T["ext"]):
        return NOT_MODELLED
    return None  # raw_tracepoint without BTF and every other type: any value


NOT_MODELLED = object()


def check_exit(v) -> bool:
    """BPF_EXIT: True when the path ends here (main frame), False after returning from a subprogram."""
    st = v.state
    if st.curframe == 0:
        refs.check_resource_leak(v, "BPF_EXIT instruction in main prog")
    else:
        return subprog.prepare_func_exit(v)
    if st.frames[0].subprogno:  # a global function verified on its own: any scalar may come back
        r0 = v.check_reg_read(0)
        if r0.type != R.SCALAR:
            v.err(f"At subprogram exit the register R0 is not a scalar value ({R.type_str(r0.type)})", EINVAL)
        return True
    check_return_code(v)
    return True


_RANGES: dict[tuple[int, int], object] = {}  # return_range by (program type, expected attach type)
_UNSEEN = object()


def check_return_code(v) -> None:
    prog = v.prog
    key = (prog.prog_type, prog.expected_attach_type or 0)
    rng = _RANGES.get(key, _UNSEEN)
    if rng is _UNSEEN:
        rng = _RANGES[key] = return_range(key[0], effective_attach_type(*key))
    if rng is NOT_MODELLED:
        _nm(f"return value of program type {prog.prog_type}")
    r0 = v.check_reg_read(0)
    if rng is None:
        return
    if r0.type != R.SCALAR:
        v.err(f"At program exit the register R0 is not a known value ({R.type_str(r0.type)})", EINVAL)
    mark_precise(v, 0)
    r0 = v.state.cur.regs[0]
    lo, hi = rng
    s = r0.s
    if lo <= s.smin and s.smax <= hi:
        return
    v.err(invalid_scalar_msg("At program exit", "R0", r0, lo, hi), EINVAL)


def invalid_scalar_msg(where: str, reg_name: str, r, lo: int, hi: int) -> str:
    """The kernel's verbose_invalid_scalar line: a value outside an allowed range."""
    s = r.s
    msg = f"{where} the register {reg_name} has"
    known = False
    if s.smin > S64_MIN:
        msg += f" smin={s.smin}"
        known = True
    if s.smax < S64_MAX:
        msg += f" smax={s.smax}"
        known = True
    if not known:
        msg += " unknown scalar value"
    return msg + f" should have been in [{lo}, {hi}]"
