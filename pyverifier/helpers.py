"""Helper prototypes as data: argument and return types of the common helpers.

``PROTOS[id]`` is a ``Proto(ret, args, ...)``; argument kinds follow the
kernel's ``enum bpf_arg_type``. A helper missing here is "not modelled" by the
verifier (never silently accepted). ``ALLOWED`` says which program types may
call it (measured on the live 6.18 kernel for the program types pyverifier
models; a missing entry means "not modelled" for that type).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import uapi

# argument kinds
ARG_DONTCARE = 0
ARG_CONST_MAP_PTR = 1
ARG_PTR_TO_MAP_KEY = 2
ARG_PTR_TO_MAP_VALUE = 3
ARG_PTR_TO_MEM = 4  # readable memory, size in the next argument
ARG_PTR_TO_UNINIT_MEM = 5  # writable memory, may be uninitialised
ARG_CONST_SIZE = 6
ARG_CONST_SIZE_OR_ZERO = 7
ARG_PTR_TO_CTX = 8
ARG_ANYTHING = 9
ARG_CONST_ALLOC_SIZE_OR_ZERO = 10
ARG_PTR_TO_RINGBUF_MEM = 11  # release of a ringbuf_reserve'd pointer
ARG_PTR_TO_MAP_VALUE_OR_NULL = 12

# return kinds
RET_INTEGER = 0
RET_VOID = 1
RET_PTR_TO_MAP_VALUE_OR_NULL = 2
RET_PTR_TO_RINGBUF_MEM_OR_NULL = 3


@dataclass(frozen=True)
class Proto:
    ret: int
    args: tuple[int, ...]
    gpl_only: bool = False
    pkt_access: bool = False


P = Proto
PROTOS: dict[int, Proto] = {
    1: P(RET_PTR_TO_MAP_VALUE_OR_NULL, (ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY), pkt_access=True),  # map_lookup_elem
    2: P(RET_INTEGER, (ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING),
         pkt_access=True),  # map_update_elem
    3: P(RET_INTEGER, (ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY), pkt_access=True),  # map_delete_elem
    5: P(RET_INTEGER, ()),  # ktime_get_ns
    6: P(RET_INTEGER, (ARG_PTR_TO_MEM, ARG_CONST_SIZE), gpl_only=True),  # trace_printk (fmt is rdonly mem)
    7: P(RET_INTEGER, ()),  # get_prandom_u32
    8: P(RET_INTEGER, ()),  # get_smp_processor_id
    14: P(RET_INTEGER, (), gpl_only=True),  # get_current_pid_tgid
    15: P(RET_INTEGER, (), gpl_only=True),  # get_current_uid_gid
    113: P(RET_INTEGER, (ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), gpl_only=True),  # probe_read_kernel
    26: P(RET_INTEGER, (ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_PTR_TO_MEM, ARG_CONST_SIZE_OR_ZERO),
          gpl_only=True),  # perf_event_output
    130: P(RET_INTEGER, (ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING)),  # ringbuf_output
    131: P(RET_PTR_TO_RINGBUF_MEM_OR_NULL, (ARG_CONST_MAP_PTR, ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING)),
    132: P(RET_VOID, (ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING)),  # ringbuf_submit
    133: P(RET_VOID, (ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING)),  # ringbuf_discard
    12: P(RET_VOID, (ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING)),  # tail_call
    23: P(RET_INTEGER, (ARG_ANYTHING, ARG_ANYTHING)),  # redirect
    25: P(RET_INTEGER, (ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE),
          pkt_access=True),  # skb_load_bytes
}

_T = uapi.PROG_TYPES
_NET = {_T["socket_filter"], _T["sched_cls"], _T["sched_act"], _T["xdp"]}
_TRACE = {_T["kprobe"], _T["tracepoint"]}
_ALL = _NET | _TRACE

ALLOWED: dict[int, set[int]] = {
    1: _ALL, 2: _ALL, 3: _ALL, 5: _ALL, 6: _ALL, 7: _ALL, 8: _ALL, 14: _TRACE, 15: _TRACE, 113: _ALL,
    26: {_T["sched_cls"], _T["sched_act"], _T["xdp"], _T["kprobe"], _T["tracepoint"]},
    130: _ALL, 131: _ALL, 132: _ALL, 133: _ALL, 12: _ALL,
    23: {_T["sched_cls"], _T["sched_act"], _T["xdp"]},
    25: {_T["socket_filter"], _T["sched_cls"], _T["sched_act"]},
}


def num_params(func_id: int, prog_type: int) -> int | None:
    """How many argument registers the helper reads, when pyverifier knows it for this program type."""
    p = PROTOS.get(func_id)
    if p is None or prog_type not in ALLOWED.get(func_id, ()):
        return None
    return len(p.args)
