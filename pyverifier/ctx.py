"""Context access per program type: which offsets and sizes a program may read or write.

``check_ctx_access(prog_type, attach_type, off, size, write)`` returns ``None``
when the kernel refuses the access (``invalid bpf_context access``), else the
register type the load produces (``regs.SCALAR`` or a packet pointer type).
The layouts are the UAPI structs of Linux 6.18 on x86_64.
"""
from __future__ import annotations

from . import regs as R
from . import uapi

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
    if off == S["sk"]:
        return NOT_MODELLED if (not write and size == 8) else None
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
    t = _skb_valid(off, size, write)
    if t is None:
        return None
    if _in(off, S["data"], 4):
        return R.PTR_TO_PACKET
    if _in(off, S["data_meta"], 4):
        return R.PTR_TO_PACKET_META
    if _in(off, S["data_end"], 4):
        return R.PTR_TO_PACKET_END
    return t


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
    if off < 8 or off >= PERF_MAX_TRACE_SIZE or write or off % size:
        return None
    return R.SCALAR


_BY_TYPE = {
    uapi.PROG_TYPES["socket_filter"]: _sk_filter,
    uapi.PROG_TYPES["sched_cls"]: _tc,
    uapi.PROG_TYPES["sched_act"]: _tc,
    uapi.PROG_TYPES["xdp"]: _xdp,
    uapi.PROG_TYPES["kprobe"]: _kprobe,
    uapi.PROG_TYPES["tracepoint"]: _tracepoint,
}


def supported(prog_type: int) -> bool:
    return prog_type in _BY_TYPE


def check_ctx_access(prog_type: int, attach_type, off: int, size: int, write: bool):
    """None: refused; NOT_MODELLED: pyverifier does not know; else the loaded register's type."""
    fn = _BY_TYPE.get(prog_type)
    if fn is None:
        return NOT_MODELLED
    return fn(off, size, write, attach_type)
