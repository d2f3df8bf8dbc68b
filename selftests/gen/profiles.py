"""What a program of each generated type may touch: context fields, packet, helpers, returns."""
from __future__ import annotations

from dataclasses import dataclass

from pyverifier import uapi

# helper ids (include/uapi/linux/bpf.h)
MAP_LOOKUP = 1
MAP_UPDATE = 2
MAP_DELETE = 3
KTIME_GET_NS = 5
GET_PRANDOM_U32 = 7
GET_SMP_PROCESSOR_ID = 8
GET_CURRENT_PID_TGID = 14
GET_CURRENT_COMM = 16
SKB_LOAD_BYTES = 26
PROBE_READ_KERNEL = 113
PROBE_READ_KERNEL_STR = 115
XDP_LOAD_BYTES = 189


@dataclass(frozen=True)
class Profile:
    name: str
    ctx_fields: tuple[int, ...]  # offsets of readable context fields
    ctx_field_size: int  # their size (4 for __sk_buff/xdp_md, 8 for pt_regs)
    pkt: tuple[int, int] | None  # offsets of data and data_end in the context (direct packet access)
    cb: tuple[int, int] | None  # writable context range [start, end) (__sk_buff cb[])
    ld_abs: bool  # legacy BPF_LD_ABS/IND packet loads
    load_bytes: int | None  # helper (ctx, offset, to, len) copying packet bytes
    tracing: bool  # bpf_probe_read_kernel and the current-task helpers
    returns: tuple[int, ...]  # return values the epilogue picks from

    @property
    def prog_type(self) -> int:
        return uapi.prog_type_num(self.name)


_SKB_FIELDS = (0, 4, 8, 12, 16, 32, 40, 68)  # len, pkt_type, mark, queue_mapping, protocol, priority, ifindex, hash

PROFILES: dict[str, Profile] = {
    "socket_filter": Profile("socket_filter", _SKB_FIELDS, 4, None, (48, 68), True, SKB_LOAD_BYTES, False,
                             (0, 64, 0xFFFF, -1)),
    "sched_cls": Profile("sched_cls", _SKB_FIELDS, 4, (76, 80), (48, 68), True, SKB_LOAD_BYTES, False,
                         (0, 2, -1)),  # TC_ACT_OK, TC_ACT_SHOT, TC_ACT_UNSPEC
    "xdp": Profile("xdp", (12, 16), 4, (0, 4), None, False, XDP_LOAD_BYTES, False, (1, 2, 3)),  # DROP, PASS, TX
    "kprobe": Profile("kprobe", tuple(range(0, 168, 8)), 8, None, None, False, None, True, (0, 1)),
}

# how often each type is generated (percent)
PROFILE_WEIGHTS = (("socket_filter", 25), ("sched_cls", 30), ("xdp", 25), ("kprobe", 20))
