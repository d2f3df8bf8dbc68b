"""Measure which helpers each program type may call on the running kernel.

For every (program type, expected attach type) pair below and every helper id,
loads ``call N; r0 = 0; exit`` (GPL licence) and classifies the verifier's
answer: ``program of this type cannot use helper`` / ``invalid func`` mean
unavailable, anything else means the helper passed the availability check.
Each available helper is loaded again with a non-GPL licence to record
whether its prototype is GPL-only. Writes pyverifier/helper_avail.py (data only). Needs root and bpf().

    .venv/bin/python scripts/measure_helper_availability.py
"""
from __future__ import annotations

import os
import sys

from kernel_loader import load
from pyverifier import uapi
from pyverifier.helper_ids import BPF_FUNC_MAX_ID
from pyverifier.insn import Insn, encode
from pyverifier.program import Program

T = uapi.PROG_TYPES
A = uapi.ATTACH_TYPES

# (prog type, expected attach type) pairs: attach types only where the kernel's proto table depends on them
PAIRS = [
    ("socket_filter", 0), ("kprobe", 0), ("sched_cls", 0), ("sched_act", 0), ("tracepoint", 0), ("xdp", 0),
    ("perf_event", 0), ("cgroup_skb", 0), ("cgroup_skb", A["cgroup_inet_egress"]),
    ("cgroup_sock", A["cgroup_inet_sock_create"]), ("cgroup_sock", A["cgroup_inet4_post_bind"]),
    ("cgroup_sock", A["cgroup_inet_sock_release"]),
    ("lwt_in", 0), ("lwt_out", 0), ("lwt_xmit", 0), ("sock_ops", 0), ("sk_skb", 0), ("cgroup_device", 0),
    ("sk_msg", 0), ("raw_tracepoint", 0), ("lwt_seg6local", 0), ("sk_reuseport", 0),
    ("flow_dissector", 0), ("cgroup_sysctl", 0), ("raw_tracepoint_writable", 0),
] + [("cgroup_sock_addr", A[n]) for n in (
    "cgroup_inet4_bind", "cgroup_inet6_bind", "cgroup_inet4_connect", "cgroup_inet6_connect",
    "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "cgroup_udp4_recvmsg", "cgroup_udp6_recvmsg",
    "cgroup_inet4_getpeername", "cgroup_inet6_getpeername", "cgroup_inet4_getsockname",
    "cgroup_inet6_getsockname")] + [
    ("cgroup_sockopt", A["cgroup_getsockopt"]), ("cgroup_sockopt", A["cgroup_setsockopt"]),
    ("sk_lookup", A["sk_lookup"]), ("netfilter", A["netfilter"]), ("tracing", A["trace_raw_tp"]),
]


# programs that need an attach target: one that exists in every kernel
ATTACH_TO = {(T["tracing"], A["trace_raw_tp"]): "sys_enter"}


def _load(pt: int, eat: int, fid: int, lic: str, attach_to: str | None = None):
    ins = [Insn(0x85, 0, 0, 0, fid), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
    p = Program(id=f"m/{pt}/{fid}", source="m", name="m", prog_type=pt, insns=encode(ins),
                expected_attach_type=eat, license=lic, attach_to=attach_to or ATTACH_TO.get((pt, eat)))
    return load(p, log_level=1)


def _available(pt: int, eat: int, gpl: set[tuple[int, int]], attach_to: str | None = None) -> list[int]:
    ok = []
    for fid in range(1, BPF_FUNC_MAX_ID):
        r = _load(pt, eat, fid, "GPL", attach_to)
        if r.verdict == "error":
            print(f"{pt}/{eat} helper {fid}: load error {r.message}", file=sys.stderr)
            continue
        if "cannot use helper" in r.log or "invalid func" in r.log or "unknown func" in r.log:
            continue
        ok.append(fid)
        if "GPL-restricted" in _load(pt, eat, fid, "Proprietary", attach_to).log:
            gpl.add((pt, fid))
    return ok


def main() -> int:
    from pyverifier.iter_args import ARGS as ITER_TARGETS

    out = {}
    gpl: set[tuple[int, int]] = set()
    for name, eat in PAIRS:
        pt = T[name]
        out[(pt, eat)] = _available(pt, eat, gpl)
        print(f"{name} eat={eat}: {len(out[(pt, eat)])} helpers", file=sys.stderr)
    # BPF iterators: each target may add helpers of its own (tcp: bpf_setsockopt, ...)
    iters = {t: _available(T["tracing"], A["trace_iter"], gpl, t) for t in sorted(ITER_TARGETS)}
    path = os.path.join(os.path.dirname(__file__), "..", "pyverifier", "helper_avail.py")
    with open(path, "w") as f:
        f.write('"""Which helper ids each (program type, expected attach type) may call: measured on Linux '
                f'{os.uname().release}\nby scripts/measure_helper_availability.py (privileged, GPL). Data only."""\n\n')
        f.write("AVAILABLE: dict[tuple[int, int], frozenset[int]] = {\n")
        for (pt, eat), ids in out.items():
            f.write(f"    ({pt}, {eat}): frozenset({{{', '.join(map(str, ids))}}}),\n")
        f.write("}\n\n")
        f.write("# BPF iterator programs (tracing, BPF_TRACE_ITER), by iterator target\n")
        f.write("AVAILABLE_ITER: dict[str, frozenset[int]] = {\n")
        for t, ids in iters.items():
            f.write(f"    {t!r}: frozenset({{{', '.join(map(str, ids))}}}),\n")
        f.write("}\n\n")
        f.write("# (program type, helper id) pairs whose prototype is GPL-only\n")
        f.write("GPL_ONLY: frozenset[tuple[int, int]] = frozenset({\n")
        for pt, fid in sorted(gpl):
            f.write(f"    ({pt}, {fid}),\n")
        f.write("})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
