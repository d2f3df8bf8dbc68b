"""Built-in corpus families per program type: context fields, return ranges, packet access.

The same question asked of every program type the verifier distinguishes:
which context fields may be read and written at which width, what value the
program may return, and how direct packet access is proven safe (which
comparison forms against ``data_end`` give a range, which types may write).
Verdicts are the kernel's (``check_corpus --update``).
"""
from __future__ import annotations

from typing import Callable

from .gen_header import program

GENERATORS: dict[str, Callable[[], str]] = {}


def _add(name: str, *args, **kw) -> None:
    if name in GENERATORS:
        raise ValueError(f"{name} defined twice")
    GENERATORS[name] = lambda: program(name, *args, **kw)


# --- context fields: (name, prog_type, attach_type, loads, stores, what) ---------------
# loads/stores: (size, offset) pairs; the scalars loaded are summed and the sum is stored; a load marked
# "ptr" (size, offset, "ptr") loads a pointer, kept apart
_SZ = {1: "u8", 2: "u16", 4: "u32", 8: "u64"}

CTX: list[tuple[str, str, str | None, list[tuple[int, int]], list[tuple[int, int]], str]] = [
    ("ctx_socket_filter_fields", "socket_filter", None,
     [(4, 0), (4, 4), (4, 8), (4, 16), (4, 32), (4, 40), (4, 68)], [(4, 48), (4, 64)],
     "a socket filter reads len, pkt_type, mark, protocol, priority, ifindex and hash of its __sk_buff "
     "and uses the cb[] scratch words"),
    ("ctx_socket_filter_narrow_loads", "socket_filter", None,
     [(1, 0), (2, 0), (1, 16), (2, 18), (1, 48), (2, 50)], [],
     "narrow (byte and half-word) loads of __sk_buff fields, at offsets inside the word"),
    ("ctx_sched_act_fields", "sched_act", None,
     [(4, 44), (4, 12), (4, 36), (8, 152), (4, 160), (4, 164), (4, 176)], [(4, 44), (4, 12), (8, 152)],
     "a tc action reads tc_index, queue_mapping, ingress_ifindex, tstamp, wire_len, gso_segs, gso_size and "
     "writes tc_index, queue_mapping and tstamp"),
    ("ctx_cgroup_skb_fields", "cgroup_skb", "cgroup_inet_ingress",
     [(4, 0), (4, 16), (4, 88), (4, 92), (4, 96), (4, 100), (4, 132), (4, 136)], [(4, 8), (4, 32), (4, 48)],
     "a cgroup skb program reads the socket tuple fields (family, IPv4 and IPv6 addresses, ports) and writes "
     "mark, priority and cb[0]"),
    ("ctx_sk_skb_fields", "sk_skb", "sk_skb_stream_verdict",
     [(4, 0), (4, 88), (4, 92), (4, 132), (4, 136)], [(4, 44), (4, 32)],
     "an sk_skb verdict program reads the socket tuple and writes tc_index and priority"),
    ("ctx_lwt_in_fields", "lwt_in", None,
     [(4, 0), (4, 16), (4, 8), (4, 32), (4, 40)], [(4, 48)],
     "an lwt input program reads len, protocol, mark, priority, ifindex and writes cb[0]"),
    ("ctx_lwt_xmit_fields", "lwt_xmit", None,
     [(4, 0), (4, 16), (4, 8), (4, 68)], [(4, 48), (4, 52)],
     "an lwt transmit program reads len, protocol, mark, hash and writes cb[0], cb[1]"),
    ("ctx_cgroup_sock_create_fields", "cgroup_sock", "cgroup_inet_sock_create",
     [(4, 4), (4, 8), (4, 12)], [(4, 16), (4, 20), (4, 0)],
     "a socket-creation hook reads family, type, protocol of its bpf_sock and sets mark, priority and "
     "bound_dev_if"),
    ("ctx_cgroup_sock_post_bind4_fields", "cgroup_sock", "cgroup_inet4_post_bind",
     [(4, 4), (4, 24), (4, 44), (4, 72)], [],
     "an IPv4 post-bind hook reads family, src_ip4, src_port and state"),
    ("ctx_sock_ops_fields", "sock_ops", None,
     [(4, 0), (4, 20), (4, 24), (4, 68), (4, 72), (4, 76), (4, 80), (8, 168), (8, 176)], [(4, 4), (4, 164)],
     "a sock_ops program reads op, family, remote_ip4, local_port, is_fullsock, snd_cwnd, srtt_us, "
     "bytes_received, bytes_acked and writes reply and sk_txhash"),
    ("ctx_sk_msg_fields", "sk_msg", "sk_msg_verdict",
     [(4, 16), (4, 20), (4, 24), (4, 60), (4, 64), (4, 68)], [],
     "an sk_msg program reads family, remote_ip4, local_ip4, remote_port, local_port, size"),
    ("ctx_sock_addr_connect4_fields", "cgroup_sock_addr", "cgroup_inet4_connect",
     [(4, 0), (4, 4), (4, 24), (4, 28), (4, 32), (4, 36)], [(4, 4), (4, 24)],
     "a connect4 hook reads user_family, user_ip4, user_port, family, type, protocol and rewrites the "
     "destination address and port"),
    ("ctx_sock_addr_sendmsg4_fields", "cgroup_sock_addr", "cgroup_udp4_sendmsg",
     [(4, 4), (4, 24), (4, 40)], [(4, 40)],
     "a UDP sendmsg4 hook reads the destination and the source address and rewrites msg_src_ip4"),
    ("ctx_cgroup_device_fields", "cgroup_device", "cgroup_device",
     [(4, 0), (4, 4), (4, 8), (2, 0)], [],
     "a device cgroup program reads access_type (also its low half-word), major and minor"),
    ("ctx_cgroup_sysctl_fields", "cgroup_sysctl", "cgroup_sysctl",
     [(4, 0), (4, 4)], [(4, 4)],
     "a sysctl hook reads write and file_pos and sets file_pos"),
    ("ctx_sk_lookup_fields", "sk_lookup", "sk_lookup",
     [(4, 8), (4, 12), (4, 16), (4, 36), (4, 40), (4, 60), (4, 64)], [],
     "an sk_lookup program reads family, protocol, remote_ip4, remote_port, local_ip4, local_port and "
     "ingress_ifindex"),
    ("ctx_sk_reuseport_fields", "sk_reuseport", "sk_reuseport_select",
     [(4, 16), (4, 20), (4, 24), (4, 28), (4, 32)], [],
     "an sk_reuseport program reads len, eth_protocol, ip_protocol, bind_inany and hash"),
    ("ctx_getsockopt_fields", "cgroup_sockopt", "cgroup_getsockopt",
     [(4, 24), (4, 28), (4, 32), (4, 36)], [(4, 36), (4, 32)],
     "a getsockopt hook reads level, optname, optlen, retval and writes retval and optlen"),
    ("ctx_setsockopt_fields", "cgroup_sockopt", "cgroup_setsockopt",
     [(4, 24), (4, 28), (4, 32)], [(4, 24), (4, 28), (4, 32)],
     "a setsockopt hook reads and rewrites level, optname and optlen"),
    ("ctx_perf_event_fields", "perf_event", None,
     [(8, 168), (8, 176), (8, 128), (8, 152), (4, 168)], [],
     "a perf_event program reads sample_period, addr (also a narrow load) and the ip and sp registers"),
    ("ctx_kprobe_arg_regs", "kprobe", None,
     [(8, 112), (8, 104), (8, 96), (8, 88), (8, 72), (8, 64), (8, 128), (8, 152), (8, 80)], [],
     "a kprobe reads the six x86-64 argument registers (di, si, dx, cx, r8, r9), ip, sp and ax from pt_regs"),
]

for _name, _pt, _at, _loads, _stores, _what in CTX:
    _body = ["r6 = r1", "r7 = 0"]
    for _sz, _off, *_ptr in _loads:
        if _ptr:
            _body += [f"r3 = *({_SZ[_sz]} *)(r6 +{_off})"]
        else:
            _body += [f"r2 = *({_SZ[_sz]} *)(r6 +{_off})", "r7 += r2"]
    for _sz, _off in _stores:
        _body += [f"*({_SZ[_sz]} *)(r6 +{_off}) = r7"]
    _body += ["r0 = 1", "exit"]
    _add(_name, _pt, "ctx", _what, _body, attach_type=_at)

# bad accesses: (name, prog_type, attach_type, instruction, what)
CTX_BAD = [
    ("reject_ctx_xdp_write_data", "xdp", None, "*(u32 *)(r1 +0) = r2",
     "xdp_md->data is read-only: writing it is an invalid context access"),
    ("reject_ctx_sched_cls_narrow_data", "sched_cls", None, "r2 = *(u16 *)(r1 +76)",
     "a half-word load of __sk_buff->data (a packet pointer needs a full 4-byte load)"),
    ("reject_ctx_socket_filter_data", "socket_filter", None, "r2 = *(u32 *)(r1 +76)",
     "socket filters have no direct packet access: __sk_buff->data is not readable"),
    ("reject_ctx_kprobe_past_pt_regs", "kprobe", None, "r2 = *(u64 *)(r1 +168)",
     "a kprobe's context is pt_regs (168 bytes): a load just past its end"),
    ("reject_ctx_kprobe_write", "kprobe", None, "*(u64 *)(r1 +80) = r2",
     "a kprobe may not write pt_regs"),
    ("reject_ctx_tracepoint_write", "tracepoint", None, "*(u64 *)(r1 +8) = r2",
     "tracepoint records are read-only"),
    ("reject_ctx_sock_ops_write_op", "sock_ops", None, "*(u32 *)(r1 +0) = r2",
     "sock_ops->op is read-only: only reply, sk_txhash and a few others may be written"),
    ("reject_ctx_sk_lookup_write_port", "sk_lookup", "sk_lookup", "*(u32 *)(r1 +60) = r2",
     "an sk_lookup program may not change the local port it looks up"),
    ("reject_ctx_perf_event_write_period", "perf_event", None, "*(u64 *)(r1 +168) = r2",
     "a perf_event program may not write sample_period"),
    ("reject_ctx_sock_addr_wrong_attach_field", "cgroup_sock_addr", "cgroup_inet4_connect", "r2 = *(u32 *)(r1 +40)",
     "msg_src_ip4 is only readable by sendmsg hooks, not by connect4"),
    ("reject_ctx_cgroup_skb_write_len", "cgroup_skb", "cgroup_inet_ingress", "*(u32 *)(r1 +0) = r2",
     "cgroup skb programs may not write __sk_buff->len"),
    ("reject_ctx_raw_tp_write_arg", "raw_tracepoint", None, "*(u64 *)(r1 +0) = r2",
     "raw tracepoint arguments are read-only"),
    ("reject_ctx_sysctl_write_write_field", "cgroup_sysctl", "cgroup_sysctl", "*(u32 *)(r1 +0) = r2",
     "bpf_sysctl->write says whether the sysctl is being written: it is read-only"),
]
for _name, _pt, _at, _insn, _what in CTX_BAD:
    _add(_name, _pt, "ctx", _what, ["r2 = 0", _insn, "r0 = 1", "exit"], attach_type=_at)


# --- return values: (key, prog_type, attach_type, a value outside the hook's range) -------
RET = [
    ("cgroup_skb_ingress", "cgroup_skb", "cgroup_inet_ingress", 2),
    ("cgroup_skb_egress", "cgroup_skb", "cgroup_inet_egress", 4),  # egress may also return 2 and 3 (congestion)
    ("cgroup_sock", "cgroup_sock", "cgroup_inet_sock_create", 2),
    ("sock_addr_connect4", "cgroup_sock_addr", "cgroup_inet4_connect", 2),
    ("sock_addr_recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg", 0),  # recvmsg hooks must return 1
    ("cgroup_device", "cgroup_device", "cgroup_device", 2),
    ("cgroup_sysctl", "cgroup_sysctl", "cgroup_sysctl", 2),
    ("getsockopt", "cgroup_sockopt", "cgroup_getsockopt", 2),
    ("sk_lookup", "sk_lookup", "sk_lookup", 2),
    ("sock_ops", "sock_ops", None, 2),
]
for _key, _pt, _at, _bad in RET:
    _hook = f"a {_pt} program ({_at or 'no attach type'})"
    if _bad == 0:
        _add(f"ret_range_{_key}", _pt, "retval", f"{_hook} returns 1, the only value its hook allows",
             ["r0 = 1", "exit"], attach_type=_at)
    else:
        _add(f"ret_range_{_key}", _pt, "retval, helper",
             f"{_hook} returns 1 or 0 depending on a random value: both ends of its allowed range",
             ["call bpf_get_prandom_u32#7", "if r0 == 0x0 goto out", "r0 = 1", "out:", "exit"], attach_type=_at)
    _add(f"reject_ret_range_{_key}", _pt, "retval",
         f"{_hook} returns the constant {_bad}, just outside the range its hook understands",
         [f"r0 = {_bad}", "exit"], attach_type=_at)
_add("reject_ret_unknown_cgroup_skb", "cgroup_skb", "retval, helper",
     "a cgroup skb program returns an unbounded random value: the verifier must know R0 is in range at exit",
     ["call bpf_get_prandom_u32#7", "exit"], attach_type="cgroup_inet_ingress")
_add("ret_range_cgroup_skb_bounded_unknown", "cgroup_skb", "retval, helper, alu",
     "a random value masked with & 1 is in range: the exit check uses the tracked bounds, not only constants",
     ["call bpf_get_prandom_u32#7", "r0 &= 1", "exit"], attach_type="cgroup_inet_ingress")


# --- packet: the comparison forms against data_end -----------------------------------
# xdp: r2 = data, r3 = data_end, r4 = data + 14; each form guards reads of the 14-byte Ethernet header
FORMS = {
    "gt_fallthrough": (["if r4 > r3 goto drop"], "data + 14 > data_end jumps away"),
    "ge_fallthrough": (["if r4 >= r3 goto drop"], "data + 14 >= data_end jumps away (one byte stricter)"),
    "lt_end_first": (["if r3 < r4 goto drop"], "data_end < data + 14 jumps away (end on the left)"),
    "le_end_first": (["if r3 <= r4 goto drop"], "data_end <= data + 14 jumps away (end on the left)"),
    "le_taken": (["if r4 <= r3 goto ok", "goto drop", "ok:"], "data + 14 <= data_end jumps to the access"),
    "lt_taken": (["if r4 < r3 goto ok", "goto drop", "ok:"], "data + 14 < data_end jumps to the access"),
    "ge_end_first_taken": (["if r3 >= r4 goto ok", "goto drop", "ok:"], "data_end >= data + 14 jumps to the access"),
    "gt_end_first_taken": (["if r3 > r4 goto ok", "goto drop", "ok:"], "data_end > data + 14 jumps to the access"),
    "wrong_side": (["if r4 > r3 goto ok", "goto drop", "ok:"], "the access sits on the side where data + 14 is past the end"),
    "cmp32": (["if w4 > w3 goto drop"], "a 32-bit comparison of packet pointers"),
    "eq_end": (["if r4 == r3 goto ok", "goto drop", "ok:"], "data + 14 == data_end: equality is not a range proof"),
}
for _form, (_cmp, _what) in FORMS.items():
    _add(f"pkt_check_{_form}", "xdp", "packet, branch",
         f"direct packet access guarded by one comparison: {_what}; then reads the Ethernet header",
         ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = r2", "r4 += 14", *_cmp,
          "r5 = *(u16 *)(r2 +12)", "r0 = *(u8 *)(r2 +0)", "r0 += r5", "r0 &= 1", "r0 += 1", "exit",
          "drop:", "r0 = 1", "exit"])
_add("reject_pkt_check_off_by_one", "xdp", "packet",
     "14 bytes proven, then a load of byte 14: one past the checked range",
     ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = r2", "r4 += 14", "if r4 > r3 goto drop",
      "r0 = *(u8 *)(r2 +14)", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"])
_add("reject_pkt_wide_load_at_end", "xdp", "packet",
     "14 bytes proven, then a 4-byte load at offset 12 that reaches two bytes past them",
     ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = r2", "r4 += 14", "if r4 > r3 goto drop",
      "r0 = *(u32 *)(r2 +12)", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"])

# reading the Ethernet protocol in each program type with direct packet access:
# (prog_type, attach_type, data load, data_end load, return value, what)
PKT_TYPES = [
    ("sched_cls", None, "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "0", "a tc classifier"),
    ("sk_skb", "sk_skb_stream_verdict", "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "1", "an sk_skb verdict program"),
    ("lwt_in", None, "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "0", "an lwt input program"),
    ("lwt_seg6local", None, "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "0", "an seg6local program"),
    ("cgroup_skb", "cgroup_inet_egress", "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "1", "a cgroup skb egress program"),
    ("flow_dissector", "flow_dissector", "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "0", "a flow dissector"),
    ("sk_msg", "sk_msg_verdict", "r2 = *(u64 *)(r1 +0)", "r3 = *(u64 *)(r1 +8)", "1", "an sk_msg program (64-bit pointers)"),
    ("sk_reuseport", "sk_reuseport_select", "r2 = *(u64 *)(r1 +0)", "r3 = *(u64 *)(r1 +8)", "1", "an sk_reuseport program"),
    ("sock_ops", None, "r2 = *(u64 *)(r1 +192)", "r3 = *(u64 *)(r1 +200)", "1", "a sock_ops program (skb_data)"),
]
for _pt, _at, _ld, _le, _ret, _who in PKT_TYPES:
    _add(f"pkt_read_{_pt}", _pt, "packet, ctx",
         f"{_who} proves 14 bytes against data_end and reads the Ethernet protocol",
         [_ld, _le, "r4 = r2", "r4 += 14", "if r4 > r3 goto out", "r5 = *(u16 *)(r2 +12)", "out:", f"r0 = {_ret}", "exit"],
         attach_type=_at)
    # and a store of the same bytes: some hooks may write the packet, others only read it
    if _pt == "cgroup_skb":
        continue  # reject_packet_write_cgroup_skb asks that already
    _add(f"pkt_write_{_pt}", _pt, "packet, ctx",
         f"{_who} proves 14 bytes and rewrites the Ethernet protocol in place (packet write permission)",
         [_ld, _le, "r4 = r2", "r4 += 14", "if r4 > r3 goto out", "r5 = 8", "*(u16 *)(r2 +12) = r5", "out:",
          f"r0 = {_ret}", "exit"],
         attach_type=_at)
