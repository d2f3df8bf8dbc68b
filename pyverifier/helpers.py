"""Helper prototypes as data: argument and return kinds of the helpers pyverifier models.

``PROTOS[id]`` is a ``Proto``. Argument kinds are the kernel's ``enum
bpf_arg_type`` base kinds plus flag bits (``MEM_RDONLY``, ``MEM_UNINIT``,
``MEM_WRITE``, ``PTR_MAYBE_NULL``, ``OBJ_RELEASE``, ...); return kinds are a
base kind plus flags (``PTR_MAYBE_NULL``, ``MEM_RINGBUF``). Which program types
may call a helper, and whether its prototype there is GPL-only, is the table
measured on the live kernel (``helper_avail``, written by
``scripts/measure_helper_availability.py``). A helper without a prototype here
is "not modelled" by the verifier, never silently accepted.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import regs as R
from . import uapi
from .caches import keep
from .ctx import effective_attach_type
from .helper_avail import AVAILABLE, AVAILABLE_ITER, GPL_ONLY

# ---- argument base kinds (enum bpf_arg_type) ----
ARG_DONTCARE = 0
ARG_CONST_MAP_PTR = 1
ARG_PTR_TO_MAP_KEY = 2
ARG_PTR_TO_MAP_VALUE = 3
ARG_PTR_TO_MEM = 4
ARG_CONST_SIZE = 6
ARG_CONST_SIZE_OR_ZERO = 7
ARG_PTR_TO_CTX = 8
ARG_ANYTHING = 9
ARG_PTR_TO_SPIN_LOCK = 10
ARG_PTR_TO_SOCK_COMMON = 11
ARG_PTR_TO_SOCKET = 12
ARG_PTR_TO_BTF_ID = 13
ARG_PTR_TO_RINGBUF_MEM = 14
ARG_CONST_ALLOC_SIZE_OR_ZERO = 15
ARG_PTR_TO_BTF_ID_SOCK_COMMON = 16
ARG_PTR_TO_FUNC = 18
ARG_PTR_TO_STACK = 19
ARG_PTR_TO_CONST_STR = 20
ARG_PTR_TO_TIMER = 21
ARG_PTR_TO_DYNPTR = 23
ARG_KPTR_XCHG_DEST = 26
ARG_PTR_TO_PERCPU_BTF_ID = 17

BASE = 0xFF
# ---- flags (shared bit positions with regs for MAYBE_NULL / RDONLY / RINGBUF) ----
PTR_MAYBE_NULL = R.PTR_MAYBE_NULL
MEM_RDONLY = R.MEM_RDONLY
MEM_RINGBUF = R.MEM_RINGBUF
MEM_UNINIT = 1 << 20
MEM_WRITE = 1 << 21
MEM_FIXED_SIZE = 1 << 22
MEM_ALIGNED = 1 << 23
OBJ_RELEASE = 1 << 24

ARG_PTR_TO_UNINIT_MEM = ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE

# ---- return base kinds (enum bpf_return_type) ----
RET_INTEGER = 0
RET_VOID = 1
RET_PTR_TO_MAP_VALUE = 2
RET_PTR_TO_SOCKET = 3
RET_PTR_TO_TCP_SOCK = 4
RET_PTR_TO_SOCK_COMMON = 5
RET_PTR_TO_MEM = 6
RET_PTR_TO_MEM_OR_BTF_ID = 7
RET_PTR_TO_BTF_ID = 8

RET_PTR_TO_MAP_VALUE_OR_NULL = RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL
RET_PTR_TO_SOCKET_OR_NULL = RET_PTR_TO_SOCKET | PTR_MAYBE_NULL
RET_PTR_TO_TCP_SOCK_OR_NULL = RET_PTR_TO_TCP_SOCK | PTR_MAYBE_NULL
RET_PTR_TO_SOCK_COMMON_OR_NULL = RET_PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL
RET_PTR_TO_RINGBUF_MEM_OR_NULL = RET_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RINGBUF
RET_PTR_TO_BTF_ID_OR_NULL = RET_PTR_TO_BTF_ID | PTR_MAYBE_NULL
RET_PTR_TO_BTF_ID_TRUSTED = RET_PTR_TO_BTF_ID | R.PTR_TRUSTED


@dataclass(frozen=True)
class Proto:
    ret: int
    args: tuple[int, ...]
    pkt_access: bool = False
    arg_size: tuple[int, ...] = ()  # for MEM_FIXED_SIZE arguments, by position
    ret_btf: str = ""  # RET_PTR_TO_BTF_ID: the kernel struct the result points to
    arg_btf: tuple[str, ...] = ()  # ARG_PTR_TO_BTF_ID arguments: the kernel struct each must point to


P = Proto
I = RET_INTEGER  # noqa: E741
K = ARG_CONST_MAP_PTR
MK = ARG_PTR_TO_MAP_KEY
MV = ARG_PTR_TO_MAP_VALUE
C = ARG_PTR_TO_CTX
A = ARG_ANYTHING
MR = ARG_PTR_TO_MEM | MEM_RDONLY
MU = ARG_PTR_TO_UNINIT_MEM
S = ARG_CONST_SIZE
SZ = ARG_CONST_SIZE_OR_ZERO
SC = ARG_PTR_TO_SOCK_COMMON
BSC = ARG_PTR_TO_BTF_ID_SOCK_COMMON

# a u64 the helper writes (the kernel's ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED)
_LONG_OUT = ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED

PROTOS: dict[int, Proto] = {
    1: P(RET_PTR_TO_MAP_VALUE_OR_NULL, (K, MK), pkt_access=True),  # map_lookup_elem
    2: P(I, (K, MK, MV, A), pkt_access=True),  # map_update_elem
    3: P(I, (K, MK), pkt_access=True),  # map_delete_elem
    4: P(I, (MU, SZ, A)),  # probe_read
    5: P(I, ()),  # ktime_get_ns
    6: P(I, (MR, S)),  # trace_printk
    7: P(I, ()),  # get_prandom_u32
    8: P(I, ()),  # get_smp_processor_id
    9: P(I, (C, A, MR, S, A)),  # skb_store_bytes
    10: P(I, (C, A, A, A, A)),  # l3_csum_replace
    11: P(I, (C, A, A, A, A)),  # l4_csum_replace
    12: P(RET_VOID, (C, K, A)),  # tail_call
    13: P(I, (C, A, A)),  # clone_redirect
    14: P(I, ()),  # get_current_pid_tgid
    15: P(I, ()),  # get_current_uid_gid
    16: P(I, (MU, S)),  # get_current_comm
    17: P(I, (C,)),  # get_cgroup_classid
    18: P(I, (C, A, A)),  # skb_vlan_push
    19: P(I, (C,)),  # skb_vlan_pop
    20: P(I, (C, MU, S, A)),  # skb_get_tunnel_key
    21: P(I, (C, MR, S, A)),  # skb_set_tunnel_key
    22: P(I, (K, A)),  # perf_event_read
    23: P(I, (A, A)),  # redirect
    24: P(I, (C,)),  # get_route_realm
    25: P(I, (C, K, A, MR, SZ)),  # perf_event_output
    26: P(I, (C, A, MU, S)),  # skb_load_bytes
    27: P(I, (C, K, A)),  # get_stackid
    28: P(I, (MR | PTR_MAYBE_NULL, SZ, MR | PTR_MAYBE_NULL, SZ, A), pkt_access=True),  # csum_diff
    29: P(I, (C, MU, S)),  # skb_get_tunnel_opt
    30: P(I, (C, MR, S)),  # skb_set_tunnel_opt
    31: P(I, (C, A, A)),  # skb_change_proto
    32: P(I, (C, A)),  # skb_change_type
    33: P(I, (C, K, A)),  # skb_under_cgroup
    34: P(I, (C,)),  # get_hash_recalc
    35: P(I, ()),  # get_current_task
    36: P(I, (A, MR, S)),  # probe_write_user
    37: P(I, (K, A)),  # current_task_under_cgroup
    38: P(I, (C, A, A)),  # skb_change_tail
    39: P(I, (C, A)),  # skb_pull_data
    40: P(I, (C, A)),  # csum_update
    41: P(I, (C,)),  # set_hash_invalid
    42: P(I, ()),  # get_numa_node_id
    43: P(I, (C, A, A)),  # skb_change_head
    44: P(I, (C, A)),  # xdp_adjust_head
    45: P(I, (MU, SZ, A)),  # probe_read_str
    46: P(I, (C,)),  # get_socket_cookie (ctx variants)
    47: P(I, (C,)),  # get_socket_uid
    48: P(I, (C, A)),  # set_hash
    50: P(I, (C, A, A, A)),  # skb_adjust_room
    51: P(I, (K, A, A)),  # redirect_map
    52: P(I, (C, K, A, A)),  # sk_redirect_map
    53: P(I, (C, K, MK, A)),  # sock_map_update
    54: P(I, (C, A)),  # xdp_adjust_meta
    55: P(I, (K, A, MU, S)),  # perf_event_read_value
    56: P(I, (C, MU, S)),  # perf_prog_read_value
    58: P(I, (C, A)),  # override_return
    59: P(I, (C, A)),  # sock_ops_cb_flags_set
    60: P(I, (C, K, A, A)),  # msg_redirect_map
    61: P(I, (C, A)),  # msg_apply_bytes
    62: P(I, (C, A)),  # msg_cork_bytes
    63: P(I, (C, A, A, A)),  # msg_pull_data
    64: P(I, (C, MR, S)),  # bind
    65: P(I, (C, A)),  # xdp_adjust_tail
    66: P(I, (C, A, MU, S, A)),  # skb_get_xfrm_state
    67: P(I, (C, MU, SZ, A)),  # get_stack
    68: P(I, (C, A, MU, S, A)),  # skb_load_bytes_relative
    70: P(I, (C, K, MK, A)),  # sock_hash_update
    71: P(I, (C, K, MK, A)),  # msg_redirect_hash
    72: P(I, (C, K, MK, A)),  # sk_redirect_hash
    79: P(I, (C,)),  # skb_cgroup_id
    80: P(I, ()),  # get_current_cgroup_id
    83: P(I, (C, A)),  # skb_ancestor_cgroup_id
    84: P(RET_PTR_TO_SOCKET_OR_NULL, (C, MR, SZ, A, A), pkt_access=True),  # sk_lookup_tcp
    85: P(RET_PTR_TO_SOCKET_OR_NULL, (C, MR, SZ, A, A), pkt_access=True),  # sk_lookup_udp
    86: P(I, (BSC | OBJ_RELEASE,)),  # sk_release
    87: P(I, (K, MV, A), pkt_access=True),  # map_push_elem
    88: P(I, (K, ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE)),  # map_pop_elem
    89: P(I, (K, ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE)),  # map_peek_elem
    93: P(RET_VOID, (ARG_PTR_TO_SPIN_LOCK,)),  # spin_lock (pyverifier.locks)
    94: P(RET_VOID, (ARG_PTR_TO_SPIN_LOCK,)),  # spin_unlock
    95: P(RET_PTR_TO_SOCKET_OR_NULL, (SC,)),  # sk_fullsock
    96: P(RET_PTR_TO_TCP_SOCK_OR_NULL, (SC,)),  # tcp_sock
    97: P(I, (C,)),  # skb_ecn_set_ce
    98: P(RET_PTR_TO_SOCKET_OR_NULL, (SC,)),  # get_listener_sock
    99: P(RET_PTR_TO_SOCK_COMMON_OR_NULL, (C, MR, SZ, A, A), pkt_access=True),  # skc_lookup_tcp
    109: P(I, (A,)),  # send_signal
    112: P(I, (MU, SZ, A)),  # probe_read_user
    113: P(I, (MU, SZ, A)),  # probe_read_kernel
    114: P(I, (MU, SZ, A)),  # probe_read_user_str
    115: P(I, (MU, SZ, A)),  # probe_read_kernel_str
    117: P(I, (A,)),  # send_signal_thread
    118: P(I, ()),  # jiffies64
    123: P(I, (A,)),  # get_current_ancestor_cgroup_id
    125: P(I, ()),  # ktime_get_boot_ns
    130: P(I, (K, MR, SZ, A)),  # ringbuf_output
    131: P(RET_PTR_TO_RINGBUF_MEM_OR_NULL, (K, ARG_CONST_ALLOC_SIZE_OR_ZERO, A)),  # ringbuf_reserve
    132: P(RET_VOID, (ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, A)),  # ringbuf_submit
    133: P(RET_VOID, (ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, A)),  # ringbuf_discard
    134: P(I, (K, A)),  # ringbuf_query
    135: P(I, (C, A)),  # csum_level
    151: P(I, (C,)),  # skb_cgroup_classid
    152: P(I, (A, MR | PTR_MAYBE_NULL, SZ, A)),  # redirect_neigh
    155: P(I, (A, A)),  # redirect_peer
    160: P(I, ()),  # ktime_get_coarse_ns
    169: P(I, (ARG_PTR_TO_TIMER, K, A)),  # timer_init (pyverifier.mapvalue.process_timer)
    170: P(I, (ARG_PTR_TO_TIMER, ARG_PTR_TO_FUNC)),  # timer_set_callback
    171: P(I, (ARG_PTR_TO_TIMER, A, A)),  # timer_start
    172: P(I, (ARG_PTR_TO_TIMER,)),  # timer_cancel
    173: P(I, (C,)),  # get_func_ip
    174: P(I, (C,)),  # get_attach_cookie
    176: P(I, (MU, SZ)),  # get_branch_snapshot (flags unchecked)
    177: P(I, (MR, S, MR | PTR_MAYBE_NULL, SZ)),  # trace_vprintk
    186: P(I, ()),  # get_retval
    187: P(I, (A,)),  # set_retval
    188: P(I, (C,)),  # xdp_get_buff_len
    189: P(I, (C, A, MU, S)),  # xdp_load_bytes
    190: P(I, (C, A, MR, S)),  # xdp_store_bytes
    195: P(RET_PTR_TO_MAP_VALUE_OR_NULL, (K, MK, A)),  # map_lookup_percpu_elem
    81: P(RET_PTR_TO_MAP_VALUE, (K, A)),  # get_local_storage
    82: P(I, (C, K, MK, A)),  # sk_select_reuseport
    105: P(I, (MR, S, A, _LONG_OUT), arg_size=(0, 0, 0, 8)),  # strtol
    106: P(I, (MR, S, A, _LONG_OUT), arg_size=(0, 0, 0, 8)),  # strtoul
    122: P(I, (C | PTR_MAYBE_NULL,)),  # get_netns_cookie
    # callback helpers: a callback needs an ld_imm64 of BPF_PSEUDO_FUNC, which the kernel refuses without BTF
    164: P(I, (K, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK | PTR_MAYBE_NULL, A)),  # for_each_map_elem
    181: P(I, (A, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK | PTR_MAYBE_NULL, A)),  # loop
    208: P(I, ()),  # ktime_get_tai_ns
    57: P(I, (C, A, A, MU, S)),  # getsockopt (sock_ops)
    69: P(I, (C, ARG_PTR_TO_MEM | MEM_WRITE, S, A)),  # fib_lookup (writes its results into the params)
    107: P(RET_PTR_TO_MAP_VALUE_OR_NULL, (K, BSC, MV | PTR_MAYBE_NULL, A)),  # sk_storage_get
    108: P(I, (K, BSC)),  # sk_storage_delete
    # socket casts: a pointer to the kernel's socket object of that kind, or NULL
    136: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="tcp6_sock"),  # skc_to_tcp6_sock
    137: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="tcp_sock"),  # skc_to_tcp_sock
    138: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="tcp_timewait_sock"),  # skc_to_tcp_timewait_sock
    139: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="tcp_request_sock"),  # skc_to_tcp_request_sock
    140: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="udp6_sock"),  # skc_to_udp6_sock
    178: P(RET_PTR_TO_BTF_ID_OR_NULL, (BSC,), ret_btf="unix_sock"),  # skc_to_unix_sock
    196: P(RET_PTR_TO_BTF_ID_OR_NULL, (SC,), ret_btf="mptcp_sock"),  # skc_to_mptcp_sock
    158: P(RET_PTR_TO_BTF_ID_TRUSTED, (), ret_btf="task_struct"),  # get_current_task_btf
    # the old value of a referenced kptr field (pyverifier.kptr), a new reference
    194: P(RET_PTR_TO_BTF_ID_OR_NULL, (ARG_KPTR_XCHG_DEST, ARG_PTR_TO_BTF_ID | PTR_MAYBE_NULL | OBJ_RELEASE)),
    # the MTU is read from and written to a u32 (root may pass it uninitialized, as any stack read)
    163: P(I, (C, A, ARG_PTR_TO_MEM | MEM_FIXED_SIZE | MEM_WRITE | MEM_ALIGNED, A, A),
           arg_size=(0, 0, 4, 0, 0)),  # check_mtu
    # BPF iterators write to the seq_file of their context; a task's kernel stack
    126: P(I, (ARG_PTR_TO_BTF_ID, MR, S, MR | PTR_MAYBE_NULL, SZ), arg_btf=("seq_file",)),  # seq_printf
    127: P(I, (ARG_PTR_TO_BTF_ID, MR, SZ), arg_btf=("seq_file",)),  # seq_write
    141: P(I, (ARG_PTR_TO_BTF_ID, MU, SZ, A), arg_btf=("task_struct",)),  # get_task_stack
    # a task's VMA at an address, handed to a callback
    180: P(I, (ARG_PTR_TO_BTF_ID, A, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK | PTR_MAYBE_NULL, A),
           arg_btf=("task_struct",)),  # find_vma
    # per-CPU kernel variables: only the argument's type check is modelled (a per-CPU pointer is not)
    153: P(RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY, (ARG_PTR_TO_PERCPU_BTF_ID, A)),  # per_cpu_ptr
    154: P(RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY, (ARG_PTR_TO_PERCPU_BTF_ID,)),  # this_cpu_ptr
}

# prototypes that differ per program type: (helper id, program type) -> Proto
_T = uapi.PROG_TYPES
_TRACING_TYPES = (_T["kprobe"], _T["tracepoint"], _T["perf_event"], _T["raw_tracepoint"],
                  _T["raw_tracepoint_writable"])
VARIANTS: dict[tuple[int, int], Proto | None] = {}
for _pt in _TRACING_TYPES:
    # the tracing bpf_get_socket_cookie takes a BTF socket pointer: not modelled
    VARIANTS[(46, _pt)] = None
# bpf_get_cgroup_classid reads the skb in tc and lwt programs, the current task elsewhere
for _pt in range(len(_T)):
    if _pt not in (_T["sched_cls"], _T["sched_act"], _T["lwt_in"], _T["lwt_out"], _T["lwt_xmit"],
                   _T["lwt_seg6local"]):
        VARIANTS[(17, _pt)] = P(I, ())
# sk_lookup's bpf_sk_assign takes a sock_common or NULL
VARIANTS[(124, _T["sk_lookup"])] = P(I, (C, SC | PTR_MAYBE_NULL, A))

BPF_FUNC_spin_lock = 93
BPF_FUNC_spin_unlock = 94

# acquire functions: a non-null result holds a reference
ACQUIRE = frozenset({84, 85, 99, 131, 194})
# pointer casts: the result carries the argument's reference
PTR_CAST = frozenset({95, 96, 136, 137, 138, 139, 140, 196})
# helpers whose integer result is bounded by a size argument (do_refine_retval_range)
RET_BOUNDED_BY_SIZE = frozenset({67, 141, 45, 114, 115})
CHANGES_PKT_DATA = frozenset({9, 10, 11, 13, 18, 19, 31, 38, 39, 43, 44, 50, 54, 63, 65, 73, 74, 75, 76, 90, 91,
                              142, 143, 144, 190})

NR_CPU_IDS: int | None = None  # the host's nr_cpu_ids; set by the caller (bpf_get_smp_processor_id's range)


_ITER = (uapi.PROG_TYPES["tracing"], uapi.ATTACH_TYPES["trace_iter"])


def available(func_id: int, prog_type: int, attach_type: int, attach_to: str | None = None) -> bool | None:
    """True/False as measured on the kernel; None when that program type (or iterator target) was not measured."""
    if (prog_type, attach_type) == _ITER:
        ids = AVAILABLE_ITER.get(attach_to or "")
        return None if ids is None else func_id in ids
    ids = AVAILABLE.get((prog_type, effective_attach_type(prog_type, attach_type or 0)))
    if ids is None:
        ids = AVAILABLE.get((prog_type, 0))
    if ids is None:
        return None
    return func_id in ids


def gpl_only(func_id: int, prog_type: int) -> bool:
    return (prog_type, func_id) in GPL_ONLY


def proto(func_id: int, prog_type: int) -> Proto | None:
    key = (func_id, prog_type)
    if key in VARIANTS:
        return VARIANTS[key]
    return PROTOS.get(func_id)


# lookup's answers: the tables above never change, and a program calls the same helpers again
_LOOKUP: dict[tuple, tuple] = {}


def lookup(func_id: int, prog_type: int, attach_type: int = 0, attach_to: str | None = None) -> tuple:
    """(``available``, ``proto``, ``gpl_only``) of a helper in a program of this type."""
    key = (func_id, prog_type, attach_type, attach_to)
    r = _LOOKUP.get(key)
    if r is None:
        r = keep(_LOOKUP, key, (available(func_id, prog_type, attach_type, attach_to), proto(func_id, prog_type),
                                gpl_only(func_id, prog_type)), 1 << 14)
    return r


def num_params(func_id: int, prog_type: int, attach_type: int = 0, attach_to: str | None = None) -> int | None:
    """How many argument registers the helper reads, when pyverifier knows it for this program type."""
    avail, p, _ = lookup(func_id, prog_type, attach_type, attach_to)
    if p is None or not avail:
        return None
    return len(p.args)


def gpl_compatible(lic: str) -> bool:
    """The kernel's license_is_gpl_compatible."""
    return lic in ("GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL")
