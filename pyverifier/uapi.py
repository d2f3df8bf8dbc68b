"""Names and numbers of the kernel's UAPI enums (include/uapi/linux/bpf.h, 6.18).

Names are the enum member in lower case without its prefix, as the corpus
JSON Lines format spells them (``socket_filter``, ``xdp``, ``percpu_array``).
"""
from __future__ import annotations

PROG_TYPES: dict[str, int] = {
    name: i
    for i, name in enumerate(
        """unspec socket_filter kprobe sched_cls sched_act tracepoint xdp perf_event cgroup_skb
        cgroup_sock lwt_in lwt_out lwt_xmit sock_ops sk_skb cgroup_device sk_msg raw_tracepoint
        cgroup_sock_addr lwt_seg6local lirc_mode2 sk_reuseport flow_dissector cgroup_sysctl
        raw_tracepoint_writable cgroup_sockopt tracing struct_ops ext lsm sk_lookup syscall
        netfilter""".split()
    )
}

ATTACH_TYPES: dict[str, int] = {
    name: i
    for i, name in enumerate(
        """cgroup_inet_ingress cgroup_inet_egress cgroup_inet_sock_create cgroup_sock_ops
        sk_skb_stream_parser sk_skb_stream_verdict cgroup_device sk_msg_verdict cgroup_inet4_bind
        cgroup_inet6_bind cgroup_inet4_connect cgroup_inet6_connect cgroup_inet4_post_bind
        cgroup_inet6_post_bind cgroup_udp4_sendmsg cgroup_udp6_sendmsg lirc_mode2 flow_dissector
        cgroup_sysctl cgroup_udp4_recvmsg cgroup_udp6_recvmsg cgroup_getsockopt cgroup_setsockopt
        trace_raw_tp trace_fentry trace_fexit modify_return lsm_mac trace_iter
        cgroup_inet4_getpeername cgroup_inet6_getpeername cgroup_inet4_getsockname
        cgroup_inet6_getsockname xdp_devmap cgroup_inet_sock_release xdp_cpumap sk_lookup xdp
        sk_skb_verdict sk_reuseport_select sk_reuseport_select_or_migrate perf_event
        trace_kprobe_multi lsm_cgroup struct_ops netfilter tcx_ingress tcx_egress
        trace_uprobe_multi cgroup_unix_connect cgroup_unix_sendmsg cgroup_unix_recvmsg
        cgroup_unix_getpeername cgroup_unix_getsockname netkit_primary netkit_peer
        trace_kprobe_session trace_uprobe_session""".split()
    )
}

MAP_TYPES: dict[str, int] = {
    name: i
    for i, name in enumerate(
        """unspec hash array prog_array perf_event_array percpu_hash percpu_array stack_trace
        cgroup_array lru_hash lru_percpu_hash lpm_trie array_of_maps hash_of_maps devmap sockmap
        cpumap xskmap sockhash cgroup_storage reuseport_sockarray percpu_cgroup_storage queue stack
        sk_storage devmap_hash struct_ops ringbuf inode_storage task_storage bloom_filter
        user_ringbuf cgrp_storage arena""".split()
    )
}

# prog_flags bits (BPF_F_*) that a Program may carry.
PROG_FLAGS: dict[str, int] = {
    "strict_alignment": 1 << 0,
    "any_alignment": 1 << 1,
    "test_rnd_hi32": 1 << 2,
    "test_state_freq": 1 << 3,
    "sleepable": 1 << 4,
    "xdp_has_frags": 1 << 5,
    "xdp_dev_bound_only": 1 << 6,
    "test_reg_invariants": 1 << 7,
}

_REVERSE: dict[int, dict[int, str]] = {}


def _lookup(table: dict[str, int], value: str | int, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a name or a number, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}: negative number {value}")
        return value
    key = str(value).strip().lower()
    for prefix in ("bpf_prog_type_", "bpf_map_type_", "bpf_"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    if key.isdigit():
        return int(key)
    try:
        return table[key]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(sorted(table))}") from None


def _name(table: dict[str, int], value: int) -> str:
    rev = _REVERSE.setdefault(id(table), {v: k for k, v in table.items()})
    return rev.get(value, str(value))


def prog_type_num(value: str | int) -> int:
    return _lookup(PROG_TYPES, value, "program type")


def prog_type_name(value: int) -> str:
    return _name(PROG_TYPES, value)


def attach_type_num(value: str | int) -> int:
    return _lookup(ATTACH_TYPES, value, "attach type")


def attach_type_name(value: int) -> str:
    return _name(ATTACH_TYPES, value)


def map_type_num(value: str | int) -> int:
    return _lookup(MAP_TYPES, value, "map type")


def map_type_name(value: int) -> str:
    return _name(MAP_TYPES, value)
