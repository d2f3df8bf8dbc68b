"""Context access per program type: which offsets and sizes a program may read or write.

``check_ctx_access(prog_type, attach_type, off, size, write)`` returns ``None``
when the kernel refuses the access (``invalid bpf_context access``), else the
register type the load produces (``regs.SCALAR`` or a packet pointer type).
The layouts are the UAPI structs of Linux 6.18 on x86_64.
"""
from __future__ import annotations

from . import regs as R
from . import uapi
from .caches import keep

NOT_MODELLED = object()

# struct __sk_buff (offsets)
SKB_SIZE = 192
_SKB = dict(len=0, pkt_type=4, mark=8, queue_mapping=12, protocol=16, vlan_present=20, vlan_tci=24, vlan_proto=28,
            priority=32, ingress_ifindex=36, ifindex=40, tc_index=44, cb=48, hash=68, tc_classid=72, data=76,
            data_end=80, napi_id=84, family=88, remote_ip4=92, local_ip4=96, remote_ip6=100, local_ip6=116,
            remote_port=132, local_port=136, data_meta=140, flow_keys=144, tstamp=152, wire_len=160,
            gso_segs=164, sk=168, gso_size=176, tstamp_type=180, hwtstamp=184)


def _in(off: int, start: int, size: int) -> bool:
    return start <= off < start + size


def _narrow_ok(off: int, size: int, size_default: int) -> bool:
    return size == size_default or (size < size_default and (off % size_default) + size <= size_default)


def _skb_field(off: int, size: int, write: bool, meta: bool = False):
    """A valid ``__sk_buff`` access: packet pointers for data/data_end (and data_meta when the type has it)."""
    t = _skb_valid(off, size, write)
    if t is None:
        return None
    S = _SKB
    if _in(off, S["data"], 4):
        return R.PTR_TO_PACKET
    if meta and _in(off, S["data_meta"], 4):
        return R.PTR_TO_PACKET_META
    if _in(off, S["data_end"], 4):
        return R.PTR_TO_PACKET_END
    return t


def _skb_valid(off: int, size: int, write: bool):
    S = _SKB
    if off < 0 or off >= SKB_SIZE or off % size:
        return None
    if _in(off, S["cb"], 20):
        if off + size > S["cb"] + 20:
            return None
        if write:
            return R.SCALAR if size <= 8 else None
        return R.SCALAR
    if _in(off, S["remote_ip6"], 16) or _in(off, S["local_ip6"], 16) or _in(off, S["remote_ip4"], 4) or \
            _in(off, S["local_ip4"], 4) or _in(off, S["data"], 4) or _in(off, S["data_meta"], 4) or \
            _in(off, S["data_end"], 4):
        return R.SCALAR if size == 4 else None
    if _in(off, S["flow_keys"], 8):
        return None
    if _in(off, S["hwtstamp"], 8):
        return R.SCALAR if (not write and size == 8) else None
    if _in(off, S["tstamp"], 8):
        return R.SCALAR if size == 8 else None
    if _in(off, S["sk"], 8):
        return R.PTR_TO_SOCK_COMMON | R.PTR_MAYBE_NULL if (not write and size == 8) else None
    if off == S["tstamp_type"]:
        return None
    if S["tstamp_type"] + 1 <= off < S["hwtstamp"]:
        return None
    if write:
        return R.SCALAR if size == 4 else None
    return R.SCALAR if _narrow_ok(off, size, 4) else None


def _sk_filter(off: int, size: int, write: bool, eat):
    S = _SKB
    for name, n in (("tc_classid", 4), ("data", 4), ("data_meta", 4), ("data_end", 4), ("tstamp", 8),
                    ("wire_len", 4), ("hwtstamp", 8)):
        if _in(off, S[name], n):
            return None
    if S["family"] <= off < S["local_port"] + 4:
        return None
    if write and not _in(off, S["cb"], 20):
        return None
    return _skb_valid(off, size, write)


def _tc(off: int, size: int, write: bool, eat):
    S = _SKB
    if write:
        ok = any(_in(off, S[n], k) for n, k in (("mark", 4), ("tc_index", 4), ("priority", 4), ("tc_classid", 4),
                                                ("cb", 20), ("tstamp", 8), ("queue_mapping", 4)))
        if not ok:
            return None
    if S["family"] <= off < S["local_port"] + 4:
        return None
    if off == S["tstamp_type"]:
        return R.SCALAR if (not write and size == 1) else None
    return _skb_field(off, size, write, meta=True)


_XDP_DEVMAP = uapi.ATTACH_TYPES["xdp_devmap"]


def _xdp(off: int, size: int, write: bool, eat):
    if eat != _XDP_DEVMAP and off == 20:
        return None
    if write:
        return None
    if off < 0 or off >= 24 or off % size or size != 4:
        return None
    return {0: R.PTR_TO_PACKET, 4: R.PTR_TO_PACKET_END, 8: R.PTR_TO_PACKET_META}.get(off, R.SCALAR)


PT_REGS_SIZE = 168  # x86_64 struct pt_regs


def _kprobe(off: int, size: int, write: bool, eat):
    if off < 0 or off >= PT_REGS_SIZE or write or off % size or off + size > PT_REGS_SIZE:
        return None
    return R.SCALAR


PERF_MAX_TRACE_SIZE = 8192


def _tracepoint(off: int, size: int, write: bool, eat):
    # the kernel compares the (int) offset with sizeof(void *) unsigned: negative offsets pass that test
    if 0 <= off < 8 or off >= PERF_MAX_TRACE_SIZE or write or off % size:
        return None
    return R.SCALAR


def _narrow(size: int, size_default: int) -> bool:
    """bpf_ctx_narrow_access_ok: a power-of-two size no wider than the field."""
    return size <= size_default and (size & (size - 1)) == 0


MAX_BPF_FUNC_ARGS = 12


def _raw_tp(off: int, size: int, write: bool, eat):
    # bpf_tracing_ctx_access: the u64 arguments, read only, aligned to the access size
    if off < 0 or off >= 8 * MAX_BPF_FUNC_ARGS or write or off % size:
        return None
    return R.SCALAR


def _raw_tp_writable(off: int, size: int, write: bool, eat):
    if off == 0:
        if size != 8 or write:
            return None
        return R.PTR_TO_TP_BUFFER  # the tracepoint's writable buffer
    return _raw_tp(off, size, write, eat)


PERF_EVENT_DATA_SIZE = PT_REGS_SIZE + 16  # struct bpf_perf_event_data: regs, sample_period, addr


def _perf_event(off: int, size: int, write: bool, eat):
    if off < 0 or off >= PERF_EVENT_DATA_SIZE or write or off % size:
        return None
    if PT_REGS_SIZE <= off < PERF_EVENT_DATA_SIZE:  # sample_period, addr
        return R.SCALAR if _narrow(size, 8) else None
    return R.SCALAR if size == 8 else None


def _cg_skb(off: int, size: int, write: bool, eat):
    S = _SKB
    if _in(off, S["tc_classid"], 4) or _in(off, S["data_meta"], 4) or _in(off, S["wire_len"], 4):
        return None
    if write:
        if not (_in(off, S["mark"], 4) or _in(off, S["priority"], 4) or _in(off, S["cb"], 20) or
                _in(off, S["tstamp"], 8)):
            return None
    return _skb_field(off, size, write)


def _sk_skb(off: int, size: int, write: bool, eat):
    S = _SKB
    for name, n in (("tc_classid", 4), ("data_meta", 4), ("tstamp", 8), ("wire_len", 4), ("hwtstamp", 8)):
        if _in(off, S[name], n):
            return None
    if write and not (_in(off, S["tc_index"], 4) or _in(off, S["priority"], 4)):
        return None
    if _in(off, S["mark"], 4):
        return None
    return _skb_field(off, size, write)


def _lwt(off: int, size: int, write: bool, eat):
    S = _SKB
    for name, n in (("tc_classid", 4), ("data_meta", 4), ("tstamp", 8), ("wire_len", 4), ("hwtstamp", 8)):
        if _in(off, S[name], n):
            return None
    if S["family"] <= off < S["local_port"] + 4:
        return None
    if write and not (_in(off, S["mark"], 4) or _in(off, S["priority"], 4) or _in(off, S["cb"], 20)):
        return None
    return _skb_field(off, size, write)


def _flow_dissector(off: int, size: int, write: bool, eat):
    S = _SKB
    if off < 0 or off >= SKB_SIZE or write or off % size:
        return None
    if _in(off, S["data"], 4):
        return R.PTR_TO_PACKET if size == 4 else None
    if _in(off, S["data_end"], 4):
        return R.PTR_TO_PACKET_END if size == 4 else None
    if _in(off, S["flow_keys"], 8):
        return R.PTR_TO_FLOW_KEYS if size == 8 else None
    return None


# struct bpf_sock (cgroup_sock programs)
_SOCK = dict(bound_dev_if=0, family=4, type=8, protocol=12, mark=16, priority=20, src_ip4=24, src_ip6=28,
             src_port=44, dst_port=48, dst_ip4=52, dst_ip6=56, state=72, rx_queue_mapping=76)
BPF_SOCK_SIZE = 80
_A = uapi.ATTACH_TYPES


def _bpf_sock_valid(off: int, size: int) -> bool:
    K = _SOCK
    if off < 0 or off >= BPF_SOCK_SIZE or off % size:
        return False
    if off in (K["state"], K["family"], K["type"], K["protocol"], K["src_port"], K["rx_queue_mapping"]) or \
            _in(off, K["src_ip4"], 4) or _in(off, K["src_ip6"], 16) or _in(off, K["dst_ip4"], 4) or \
            _in(off, K["dst_ip6"], 16):
        return _narrow(size, 4)
    if _in(off, K["dst_port"], 2):
        return _narrow(size, 4 if size == 4 else 2)
    if K["dst_port"] + 2 <= off < K["dst_ip4"]:
        return False
    return size == 4


def _cgroup_sock(off: int, size: int, write: bool, eat):
    K = _SOCK
    if not _bpf_sock_valid(off, size):
        return None
    if off in (K["bound_dev_if"], K["mark"], K["priority"]):
        if eat in (_A["cgroup_inet_sock_create"], _A["cgroup_inet_sock_release"]):
            return R.SCALAR
        return None
    if _in(off, K["src_ip4"], 4):
        ok = eat == _A["cgroup_inet4_post_bind"]
    elif _in(off, K["src_ip6"], 16):
        ok = eat == _A["cgroup_inet6_post_bind"]
    elif _in(off, K["src_port"], 4):
        ok = eat in (_A["cgroup_inet4_post_bind"], _A["cgroup_inet6_post_bind"])
    else:
        ok = True
    return R.SCALAR if ok and not write else None


# struct bpf_sock_ops
_SOCK_OPS_SIZE = 224
_SOCK_OPS_REPLY = 4
_SOCK_OPS_SK_TXHASH = 164
_SOCK_OPS_BYTES = 168  # bytes_received, bytes_acked: u64
_SOCK_OPS_SK = 184
_SOCK_OPS_SKB_DATA = 192
_SOCK_OPS_SKB_DATA_END = 200
_SOCK_OPS_SKB_TCP_FLAGS = 212
_SOCK_OPS_SKB_HWTSTAMP = 216


def _sock_ops(off: int, size: int, write: bool, eat):
    if off < 0 or off >= _SOCK_OPS_SIZE or off % size:
        return None
    if write:
        if off in (_SOCK_OPS_REPLY, _SOCK_OPS_SK_TXHASH) and size == 4:
            return R.SCALAR
        return None
    if _SOCK_OPS_BYTES <= off < _SOCK_OPS_BYTES + 16:
        return R.SCALAR if size == 8 else None
    if _in(off, _SOCK_OPS_SK, 8):
        return R.PTR_TO_SOCKET | R.PTR_MAYBE_NULL if size == 8 else None
    if _in(off, _SOCK_OPS_SKB_DATA, 8):
        return R.PTR_TO_PACKET if size == 8 else None
    if _in(off, _SOCK_OPS_SKB_DATA_END, 8):
        return R.PTR_TO_PACKET_END if size == 8 else None
    if off == _SOCK_OPS_SKB_TCP_FLAGS:
        return R.SCALAR if _narrow(size, 4) else None
    if _in(off, _SOCK_OPS_SKB_HWTSTAMP, 8):
        return R.SCALAR if size == 8 else None
    return R.SCALAR if size == 4 else None


# struct bpf_sock_addr
_SA = dict(user_family=0, user_ip4=4, user_ip6=8, user_port=24, family=28, type=32, protocol=36, msg_src_ip4=40,
           msg_src_ip6=44, sk=64)
_SOCK_ADDR_SIZE = 72
_V4 = frozenset(_A[n] for n in ("cgroup_inet4_bind", "cgroup_inet4_connect", "cgroup_inet4_getpeername",
                                "cgroup_inet4_getsockname", "cgroup_udp4_sendmsg", "cgroup_udp4_recvmsg"))
_V6 = frozenset(_A[n] for n in ("cgroup_inet6_bind", "cgroup_inet6_connect", "cgroup_inet6_getpeername",
                                "cgroup_inet6_getsockname", "cgroup_udp6_sendmsg", "cgroup_udp6_recvmsg"))


def _wide_ok(off: int, size: int, start: int, length: int) -> bool:
    return size == 8 and off >= start and off + 8 <= start + length and off % 8 == 0


def _sock_addr(off: int, size: int, write: bool, eat):
    K = _SA
    if off < 0 or off >= _SOCK_ADDR_SIZE or off % size:
        return None
    if _in(off, K["user_ip4"], 4) and eat not in _V4:
        return None
    if _in(off, K["user_ip6"], 16) and eat not in _V6:
        return None
    if _in(off, K["msg_src_ip4"], 4) and eat != _A["cgroup_udp4_sendmsg"]:
        return None
    if _in(off, K["msg_src_ip6"], 16) and eat != _A["cgroup_udp6_sendmsg"]:
        return None
    if _in(off, K["user_ip4"], 4) or _in(off, K["user_ip6"], 16) or _in(off, K["msg_src_ip4"], 4) or \
            _in(off, K["msg_src_ip6"], 16) or _in(off, K["user_port"], 4):
        if _wide_ok(off, size, K["user_ip6"], 16) or _wide_ok(off, size, K["msg_src_ip6"], 16):
            return R.SCALAR
        if write:
            return R.SCALAR if size == 4 else None
        return R.SCALAR if _narrow(size, 4) else None
    if _in(off, K["sk"], 8):
        return R.PTR_TO_SOCKET if (not write and size == 8) else None
    if write or size != 4 or off == 60:  # 60: the padding before sk (measured)
        return None
    return R.SCALAR


def _cgroup_device(off: int, size: int, write: bool, eat):
    if write or off < 0 or off + size > 12 or off % size:
        return None
    if off < 4:
        return R.SCALAR if _narrow(size, 4) else None
    return R.SCALAR if size == 4 else None


def _sk_msg(off: int, size: int, write: bool, eat):
    if write or off % size:
        return None
    if off == 0:
        return R.PTR_TO_PACKET if size == 8 else None
    if off == 8:
        return R.PTR_TO_PACKET_END if size == 8 else None
    if off == 72:
        return R.PTR_TO_SOCKET if size == 8 else None
    if 16 <= off < 72:
        return R.SCALAR if size == 4 else None
    return None


def _sysctl(off: int, size: int, write: bool, eat):
    if off < 0 or off + size > 8 or off % size:
        return None
    if off < 4:
        return R.SCALAR if (not write and _narrow(size, 4)) else None
    if write:
        return R.SCALAR if size == 4 else None
    return R.SCALAR if _narrow(size, 4) else None


def _sk_lookup(off: int, size: int, write: bool, eat):
    if off < 0 or off >= 72 or off % size or write:
        return None
    if off == 0:
        return R.PTR_TO_SOCKET | R.PTR_MAYBE_NULL if size == 8 else None
    if 36 <= off < 38:  # remote_port
        return R.SCALAR if (size == 4 or _narrow(size, 2)) else None
    if 38 <= off < 40:  # its zero padding
        return R.SCALAR if _narrow(size, 2) else None
    if 8 <= off < 68:
        return R.SCALAR if _narrow(size, 4) else None
    return None


def _sk_reuseport(off: int, size: int, write: bool, eat):
    # struct sk_reuseport_md: data 0, data_end 8, len 16, eth_protocol 20, ip_protocol 24, bind_inany 28,
    # hash 32, sk 40, migrating_sk 48
    if off < 0 or off >= 56 or off % size or write:
        return None
    if off == 0:
        return R.PTR_TO_PACKET if size == 8 else None
    if off == 8:
        return R.PTR_TO_PACKET_END if size == 8 else None
    if off == 32:
        return R.SCALAR if size == 4 else None
    if off == 40:
        return R.PTR_TO_SOCKET if size == 8 else None
    if off == 48:
        return R.PTR_TO_SOCK_COMMON | R.PTR_MAYBE_NULL if size == 8 else None
    if 20 <= off < 24 and size < 2:
        return None
    if 16 <= off < 32:
        return R.SCALAR if _narrow(size, 4) else None
    return None


def _sockopt(off: int, size: int, write: bool, eat):
    # struct bpf_sockopt: sk 0, optval 8, optval_end 16, level 24, optname 28, optlen 32, retval 36
    if off < 0 or off >= 40 or off % size:
        return None
    get = eat == _A["cgroup_getsockopt"]
    if write:
        if off == 36:
            return R.SCALAR if size == 4 and get else None
        if off in (24, 28):
            return R.SCALAR if size == 4 and eat == _A["cgroup_setsockopt"] else None
        if off == 32:
            return R.SCALAR if size == 4 else None
        return None
    if off < 8:
        return R.PTR_TO_SOCKET if size == 8 else None
    if off < 16:
        return R.PTR_TO_PACKET if size == 8 else None
    if off < 24:
        return R.PTR_TO_PACKET_END if size == 8 else None
    if off == 36:
        return R.SCALAR if size == 4 and get else None
    return R.SCALAR if size == 4 else None


class BtfCtxField(tuple):
    """A context field that is a pointer to a kernel object: (register type, kernel struct name)."""

    __slots__ = ()


def _netfilter(off: int, size: int, write: bool, eat):
    # struct bpf_nf_ctx: two read-only pointers to trusted kernel objects
    if off < 0 or off >= 16 or off % size or write or size != 8:
        return None
    return BtfCtxField((R.PTR_TO_BTF_ID | R.PTR_TRUSTED, "nf_hook_state" if off == 0 else "sk_buff"))


_BY_TYPE = {
    uapi.PROG_TYPES["socket_filter"]: _sk_filter,
    uapi.PROG_TYPES["sched_cls"]: _tc,
    uapi.PROG_TYPES["sched_act"]: _tc,
    uapi.PROG_TYPES["xdp"]: _xdp,
    uapi.PROG_TYPES["kprobe"]: _kprobe,
    uapi.PROG_TYPES["tracepoint"]: _tracepoint,
    uapi.PROG_TYPES["raw_tracepoint"]: _raw_tp,
    uapi.PROG_TYPES["raw_tracepoint_writable"]: _raw_tp_writable,
    uapi.PROG_TYPES["perf_event"]: _perf_event,
    uapi.PROG_TYPES["cgroup_skb"]: _cg_skb,
    uapi.PROG_TYPES["sk_skb"]: _sk_skb,
    uapi.PROG_TYPES["lwt_in"]: _lwt,
    uapi.PROG_TYPES["lwt_out"]: _lwt,
    uapi.PROG_TYPES["lwt_xmit"]: _lwt,
    uapi.PROG_TYPES["lwt_seg6local"]: _lwt,
    uapi.PROG_TYPES["flow_dissector"]: _flow_dissector,
    uapi.PROG_TYPES["cgroup_sock"]: _cgroup_sock,
    uapi.PROG_TYPES["sock_ops"]: _sock_ops,
    uapi.PROG_TYPES["cgroup_sock_addr"]: _sock_addr,
    uapi.PROG_TYPES["cgroup_device"]: _cgroup_device,
    uapi.PROG_TYPES["sk_msg"]: _sk_msg,
    uapi.PROG_TYPES["cgroup_sysctl"]: _sysctl,
    uapi.PROG_TYPES["sk_lookup"]: _sk_lookup,
    uapi.PROG_TYPES["sk_reuseport"]: _sk_reuseport,
    uapi.PROG_TYPES["cgroup_sockopt"]: _sockopt,
    uapi.PROG_TYPES["netfilter"]: _netfilter,
}


def _sock_common_valid(off: int, size: int) -> bool:
    if _SOCK["type"] <= off < _SOCK["priority"] + 4:
        return False
    return _bpf_sock_valid(off, size)


_TCP_SOCK_END = 112  # offsetofend(struct bpf_tcp_sock, icsk_retransmits)


def _tcp_sock_valid(off: int, size: int) -> bool:
    if off < 0 or off >= _TCP_SOCK_END or off % size:
        return False
    if off in (80, 88):  # bytes_received, bytes_acked
        return size == 8
    return size == 4


def _xdp_sock_valid(off: int, size: int) -> bool:
    return off == 0 and size == 4  # struct bpf_xdp_sock: queue_id


def check_sock_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """Loads through socket pointers (check_sock_access): scalars from struct bpf_sock and friends."""
    t = reg.type
    if write:
        v.err(f"R{regno} cannot write into {R.type_str(t)}")
    if reg.s.smin < 0:
        v.err(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.")
    if t == R.PTR_TO_SOCK_COMMON:
        ok = _sock_common_valid(off, size)
    elif t == R.PTR_TO_SOCKET:
        ok = _bpf_sock_valid(off, size)
    elif t == R.PTR_TO_TCP_SOCK:
        ok = _tcp_sock_valid(off, size)
    else:
        ok = _xdp_sock_valid(off, size)
    if not ok:
        v.err(f"R{regno} invalid {R.type_str(t)} access off={off} size={size}")
    if value_regno >= 0:
        v.set_reg(value_regno, R.scalar_unknown())


_T = uapi.PROG_TYPES
# bpf_prog_load_check_attach: the attach types a program type may be loaded with (others: any)
_VALID_ATTACH = {
    _T["cgroup_sock"]: frozenset(_A[n] for n in ("cgroup_inet_sock_create", "cgroup_inet_sock_release",
                                                 "cgroup_inet4_post_bind", "cgroup_inet6_post_bind")),
    _T["cgroup_sock_addr"]: frozenset(_A[n] for n in (
        "cgroup_inet4_bind", "cgroup_inet6_bind", "cgroup_inet4_connect", "cgroup_inet6_connect",
        "cgroup_unix_connect", "cgroup_inet4_getpeername", "cgroup_inet6_getpeername", "cgroup_unix_getpeername",
        "cgroup_inet4_getsockname", "cgroup_inet6_getsockname", "cgroup_unix_getsockname", "cgroup_udp4_sendmsg",
        "cgroup_udp6_sendmsg", "cgroup_unix_sendmsg", "cgroup_udp4_recvmsg", "cgroup_udp6_recvmsg",
        "cgroup_unix_recvmsg")),
    _T["cgroup_skb"]: frozenset({_A["cgroup_inet_ingress"], _A["cgroup_inet_egress"]}),
    _T["cgroup_sockopt"]: frozenset({_A["cgroup_getsockopt"], _A["cgroup_setsockopt"]}),
    _T["sk_lookup"]: frozenset({_A["sk_lookup"]}),
    _T["sk_reuseport"]: frozenset({_A["sk_reuseport_select"], _A["sk_reuseport_select_or_migrate"]}),
    _T["netfilter"]: frozenset({_A["netfilter"]}),
    _T["syscall"]: frozenset({0}),
    _T["ext"]: frozenset({0}),
}


def effective_attach_type(prog_type: int, attach_type: int) -> int:
    """bpf_prog_load_fixup_attach_type: the attach type a program is verified with."""
    if not attach_type:
        if prog_type == _T["cgroup_sock"]:
            return _A["cgroup_inet_sock_create"]
        if prog_type == _T["sk_reuseport"]:
            return _A["sk_reuseport_select"]
    return attach_type


def attach_type_valid(prog_type: int, attach_type: int) -> bool:
    ok = _VALID_ATTACH.get(prog_type)
    return ok is None or effective_attach_type(prog_type, attach_type) in ok


def supported(prog_type: int) -> bool:
    return prog_type in _BY_TYPE


# the answers so far: the rules are fixed tables, so an access is decided once per process
_ACCESS: dict[tuple, object] = {}
_ACCESS_MAX = 1 << 16


def check_ctx_access(prog_type: int, attach_type, off: int, size: int, write: bool):
    """None: refused; NOT_MODELLED: pyverifier does not know; else the loaded register's type."""
    key = (prog_type, attach_type, off, size, write)
    rt = _ACCESS.get(key, _ACCESS)
    if rt is not _ACCESS:
        return rt
    fn = _BY_TYPE.get(prog_type)
    if fn is None:
        return NOT_MODELLED
    return keep(_ACCESS, key, fn(off, size, write, effective_attach_type(prog_type, attach_type or 0)), _ACCESS_MAX)
