"""Program type, expected attach type and flags from an ELF section name, as libbpf's SEC() reads it.

The table follows libbpf's ``section_defs`` (libbpf 1.x): the first entry that
matches wins. A pattern ending in ``+`` matches the name itself or the name
followed by ``/anything``; a pattern ending in ``/`` matches any name with that
prefix; any other pattern must match exactly. A leading ``?`` on the section
name (libbpf: "do not load by default") is ignored for matching.

For programs attached through BTF (``tp_btf``, ``fentry``, ``fexit``,
``fmod_ret``, ``lsm``, ``lsm_cgroup``, ``iter``, ``freplace``) the part after
the first ``/`` is the attach target, kept verbatim in ``SecDef.attach_to``:
``SEC("tp_btf/sched_switch")`` gives ``sched_switch``; the kernel's BTF names it
``btf_trace_sched_switch`` (typedef), ``SEC("lsm/file_open")`` ``bpf_lsm_file_open``
and ``SEC("iter/task")`` ``bpf_iter_task``; ``btf_attach_name`` gives that name.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyverifier import uapi

# libbpf's SEC_* flags that change what is loaded
SLEEPABLE = 1  # BPF_F_SLEEPABLE
XDP_FRAGS = 2  # BPF_F_XDP_HAS_FRAGS
ATTACH_BTF = 4  # needs an attach target resolved through BTF
NEEDS_TARGET_PROG = 8  # freplace: the target is another loaded program
STRUCT_OPS = 16  # the attach target is a member of a kernel struct_ops type

# (pattern, program type, expected attach type or None, flags)
_TABLE: tuple[tuple[str, str, str | None, int], ...] = (
    ("socket", "socket_filter", None, 0),
    ("sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", 0),
    ("sk_reuseport", "sk_reuseport", "sk_reuseport_select", 0),
    ("kprobe+", "kprobe", None, 0),
    ("uprobe+", "kprobe", None, 0),
    ("uprobe.s+", "kprobe", None, SLEEPABLE),
    ("kretprobe+", "kprobe", None, 0),
    ("uretprobe+", "kprobe", None, 0),
    ("uretprobe.s+", "kprobe", None, SLEEPABLE),
    ("kprobe.multi+", "kprobe", "trace_kprobe_multi", 0),
    ("kretprobe.multi+", "kprobe", "trace_kprobe_multi", 0),
    ("kprobe.session+", "kprobe", "trace_kprobe_session", 0),
    ("uprobe.multi+", "kprobe", "trace_uprobe_multi", 0),
    ("uretprobe.multi+", "kprobe", "trace_uprobe_multi", 0),
    ("uprobe.session+", "kprobe", "trace_uprobe_session", 0),
    ("uprobe.multi.s+", "kprobe", "trace_uprobe_multi", SLEEPABLE),
    ("uretprobe.multi.s+", "kprobe", "trace_uprobe_multi", SLEEPABLE),
    ("uprobe.session.s+", "kprobe", "trace_uprobe_session", SLEEPABLE),
    ("ksyscall+", "kprobe", None, 0),
    ("kretsyscall+", "kprobe", None, 0),
    ("usdt+", "kprobe", None, 0),
    ("usdt.s+", "kprobe", None, SLEEPABLE),
    ("tc/ingress", "sched_cls", "tcx_ingress", 0),
    ("tc/egress", "sched_cls", "tcx_egress", 0),
    ("tcx/ingress", "sched_cls", "tcx_ingress", 0),
    ("tcx/egress", "sched_cls", "tcx_egress", 0),
    ("tc", "sched_cls", None, 0),
    ("classifier", "sched_cls", None, 0),
    ("action", "sched_act", None, 0),
    ("netkit/primary", "sched_cls", "netkit_primary", 0),
    ("netkit/peer", "sched_cls", "netkit_peer", 0),
    ("tracepoint+", "tracepoint", None, 0),
    ("tp+", "tracepoint", None, 0),
    ("raw_tracepoint+", "raw_tracepoint", None, 0),
    ("raw_tp+", "raw_tracepoint", None, 0),
    ("raw_tracepoint.w+", "raw_tracepoint_writable", None, 0),
    ("raw_tp.w+", "raw_tracepoint_writable", None, 0),
    ("tp_btf+", "tracing", "trace_raw_tp", ATTACH_BTF),
    ("fentry+", "tracing", "trace_fentry", ATTACH_BTF),
    ("fmod_ret+", "tracing", "modify_return", ATTACH_BTF),
    ("fexit+", "tracing", "trace_fexit", ATTACH_BTF),
    ("fentry.s+", "tracing", "trace_fentry", ATTACH_BTF | SLEEPABLE),
    ("fmod_ret.s+", "tracing", "modify_return", ATTACH_BTF | SLEEPABLE),
    ("fexit.s+", "tracing", "trace_fexit", ATTACH_BTF | SLEEPABLE),
    ("freplace+", "ext", None, ATTACH_BTF | NEEDS_TARGET_PROG),
    ("lsm+", "lsm", "lsm_mac", ATTACH_BTF),
    ("lsm.s+", "lsm", "lsm_mac", ATTACH_BTF | SLEEPABLE),
    ("lsm_cgroup+", "lsm", "lsm_cgroup", ATTACH_BTF),
    ("iter+", "tracing", "trace_iter", ATTACH_BTF),
    ("iter.s+", "tracing", "trace_iter", ATTACH_BTF | SLEEPABLE),
    ("syscall", "syscall", None, SLEEPABLE),
    ("xdp.frags/devmap", "xdp", "xdp_devmap", XDP_FRAGS),
    ("xdp/devmap", "xdp", "xdp_devmap", 0),
    ("xdp.frags/cpumap", "xdp", "xdp_cpumap", XDP_FRAGS),
    ("xdp/cpumap", "xdp", "xdp_cpumap", 0),
    ("xdp.frags", "xdp", "xdp", XDP_FRAGS),
    ("xdp", "xdp", "xdp", 0),
    ("perf_event", "perf_event", None, 0),
    ("lwt_in", "lwt_in", None, 0),
    ("lwt_out", "lwt_out", None, 0),
    ("lwt_xmit", "lwt_xmit", None, 0),
    ("lwt_seg6local", "lwt_seg6local", None, 0),
    ("sockops", "sock_ops", "cgroup_sock_ops", 0),
    ("sk_skb/stream_parser", "sk_skb", "sk_skb_stream_parser", 0),
    ("sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict", 0),
    ("sk_skb/verdict", "sk_skb", "sk_skb_verdict", 0),
    ("sk_skb", "sk_skb", None, 0),
    ("sk_msg", "sk_msg", "sk_msg_verdict", 0),
    ("lirc_mode2", "lirc_mode2", "lirc_mode2", 0),
    ("flow_dissector", "flow_dissector", "flow_dissector", 0),
    ("cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress", 0),
    ("cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress", 0),
    ("cgroup/skb", "cgroup_skb", None, 0),
    ("cgroup/sock_create", "cgroup_sock", "cgroup_inet_sock_create", 0),
    ("cgroup/sock_release", "cgroup_sock", "cgroup_inet_sock_release", 0),
    ("cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create", 0),
    ("cgroup/post_bind4", "cgroup_sock", "cgroup_inet4_post_bind", 0),
    ("cgroup/post_bind6", "cgroup_sock", "cgroup_inet6_post_bind", 0),
    ("cgroup/bind4", "cgroup_sock_addr", "cgroup_inet4_bind", 0),
    ("cgroup/bind6", "cgroup_sock_addr", "cgroup_inet6_bind", 0),
    ("cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", 0),
    ("cgroup/connect6", "cgroup_sock_addr", "cgroup_inet6_connect", 0),
    ("cgroup/connect_unix", "cgroup_sock_addr", "cgroup_unix_connect", 0),
    ("cgroup/sendmsg4", "cgroup_sock_addr", "cgroup_udp4_sendmsg", 0),
    ("cgroup/sendmsg6", "cgroup_sock_addr", "cgroup_udp6_sendmsg", 0),
    ("cgroup/sendmsg_unix", "cgroup_sock_addr", "cgroup_unix_sendmsg", 0),
    ("cgroup/recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg", 0),
    ("cgroup/recvmsg6", "cgroup_sock_addr", "cgroup_udp6_recvmsg", 0),
    ("cgroup/recvmsg_unix", "cgroup_sock_addr", "cgroup_unix_recvmsg", 0),
    ("cgroup/getpeername4", "cgroup_sock_addr", "cgroup_inet4_getpeername", 0),
    ("cgroup/getpeername6", "cgroup_sock_addr", "cgroup_inet6_getpeername", 0),
    ("cgroup/getpeername_unix", "cgroup_sock_addr", "cgroup_unix_getpeername", 0),
    ("cgroup/getsockname4", "cgroup_sock_addr", "cgroup_inet4_getsockname", 0),
    ("cgroup/getsockname6", "cgroup_sock_addr", "cgroup_inet6_getsockname", 0),
    ("cgroup/getsockname_unix", "cgroup_sock_addr", "cgroup_unix_getsockname", 0),
    ("cgroup/sysctl", "cgroup_sysctl", "cgroup_sysctl", 0),
    ("cgroup/getsockopt", "cgroup_sockopt", "cgroup_getsockopt", 0),
    ("cgroup/setsockopt", "cgroup_sockopt", "cgroup_setsockopt", 0),
    ("cgroup/dev", "cgroup_device", "cgroup_device", 0),
    ("struct_ops+", "struct_ops", None, STRUCT_OPS),
    ("struct_ops.s+", "struct_ops", None, STRUCT_OPS | SLEEPABLE),
    ("sk_lookup", "sk_lookup", "sk_lookup", 0),
    ("netfilter", "netfilter", "netfilter", 0),
)

# prefixes the kernel's BTF gives to attach targets, by expected attach type
_BTF_PREFIX = {"trace_raw_tp": "btf_trace_", "lsm_mac": "bpf_lsm_", "lsm_cgroup": "bpf_lsm_", "trace_iter": "bpf_iter_"}


@dataclass(frozen=True)
class SecDef:
    pattern: str
    prog_type: int
    expected_attach_type: int | None
    flags: int
    attach_to: str | None  # BTF-attached programs: the target named in the section
    autoload: bool  # False for SEC("?...")

    @property
    def prog_flags(self) -> int:
        f = 0
        if self.flags & SLEEPABLE:
            f |= uapi.PROG_FLAGS["sleepable"]
        if self.flags & XDP_FRAGS:
            f |= uapi.PROG_FLAGS["xdp_has_frags"]
        return f


def _matches(pattern: str, name: str) -> bool:
    if pattern.endswith("/"):
        return name.startswith(pattern)
    if pattern.endswith("+"):
        p = pattern[:-1]
        return name == p or name.startswith(p + "/")
    return name == pattern


def find_sec_def(section: str) -> SecDef | None:
    """The SEC() definition matching ``section``, or None when libbpf knows no such section."""
    autoload = not section.startswith("?")
    name = section[1:] if not autoload else section
    for pattern, ptype, atype, flags in _TABLE:
        if _matches(pattern, name):
            attach_to = None
            if flags & (ATTACH_BTF | STRUCT_OPS) and "/" in name:
                attach_to = name.split("/", 1)[1] or None
            return SecDef(
                pattern=pattern,
                prog_type=uapi.prog_type_num(ptype),
                expected_attach_type=uapi.attach_type_num(atype) if atype else None,
                flags=flags,
                attach_to=attach_to,
                autoload=autoload,
            )
    return None


def btf_attach_name(attach_to: str, expected_attach_type: int | None) -> str:
    """The name the kernel's BTF gives the attach target ``attach_to`` (see the module doc)."""
    if expected_attach_type is None:
        return attach_to
    return _BTF_PREFIX.get(uapi.attach_type_name(expected_attach_type), "") + attach_to
