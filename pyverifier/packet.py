"""Direct packet access: packet pointers, their ranges, and comparisons with ``pkt_end``.

A ``pkt`` (or ``pkt_meta``) register carries ``range``: how many bytes from
the pointer's packet start plus its fixed ``off`` are known to be inside the
packet. Loading ``data``/``data_meta``/``data_end`` from the context gives a
pointer with ``range`` 0. Comparing a packet pointer with ``pkt_end`` (or a
``pkt_meta`` pointer with the packet start) widens the range of every register
with the same type and ``id`` on the branch where the comparison proves the
bytes are there (the kernel's ``find_good_pkt_pointers``); on the other branch
the compared register learns that it is at or beyond the end
(``AT_PKT_END``/``BEYOND_PKT_END``), which later comparisons can decide.

All functions take the running verifier ``v`` (``pyverifier.verifier._Verifier``).
"""
from __future__ import annotations

from . import regs as R
from .scalar import flip_op
from .stack import STACK_SPILL, Slot

MAX_PACKET_OFF = 0xFFFF
AT_PKT_END = -1
BEYOND_PKT_END = -2

JEQ, JGT, JGE, JNE, JSGT, JSGE, JLT, JLE = 0x10, 0x20, 0x30, 0x50, 0x60, 0x70, 0xA0, 0xB0

_READ_ONLY = {"lwt_in", "lwt_out", "lwt_seg6local", "sk_reuseport", "flow_dissector", "cgroup_skb"}
_READ_WRITE = {"sched_cls", "sched_act", "xdp", "lwt_xmit", "sk_skb", "sk_msg"}


def _types(names):
    from . import uapi

    return {uapi.PROG_TYPES[n] for n in names if n in uapi.PROG_TYPES}


_RO = _types(_READ_ONLY)
_RW = _types(_READ_WRITE)
_SOCKOPT = _types({"cgroup_sockopt"})


def may_access_direct(prog_type: int, write: bool) -> bool:
    """The kernel's may_access_direct_pkt_data (without a helper's meta)."""
    if prog_type in _RO:
        return not write
    return prog_type in _RW or prog_type in _SOCKOPT


def is_pkt_any(r) -> bool:
    return r.type in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_PACKET_END)


def is_init_pkt_pointer(r, t: int) -> bool:
    vo = r.s.var_off
    return r.type == t and r.id == 0 and r.off == 0 and vo.value == 0 and vo.mask == 0


def map_regs(st, fn) -> None:
    """Replace every register and spilled register of every frame of ``st`` by ``fn(reg)``."""
    for f in st.frames:
        regs = f.regs
        for i, r in enumerate(regs):
            if r.type:
                n = fn(r)
                if n is not r:
                    regs[i] = n
        stack = f.stack
        for i, s in enumerate(stack):
            if s.types[7] == STACK_SPILL and s.spilled is not None:
                n = fn(s.spilled)
                if n is not s.spilled:
                    stack[i] = Slot(s.types, n)


def check_packet_access(v, reg, regno: int, off: int, size: int, zero_size_allowed: bool = False) -> None:
    """check_packet_access: ``off`` already includes ``reg.off``."""
    if reg.s.smin < 0:
        v.err(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.")
    rng = reg.range
    size_ok = size > 0 or (size == 0 and zero_size_allowed)
    if rng < 0 or not (off >= 0 and size_ok and off + size <= rng):
        if rng >= 0:
            v.log.write(f"invalid access to packet, off={off} size={size}, R{regno}(id={reg.id},off={off},r={rng})\n")
        v.err(f"R{regno} offset is outside of the packet", 13 if rng >= 0 else 22)


def mem_access(v, reg, regno: int, off: int, size: int, write: bool, value_regno: int) -> None:
    """The packet-pointer branch of check_mem_access (``off`` includes ``reg.off``)."""
    if write and not may_access_direct(v.prog.prog_type, True):
        v.err("cannot write into packet")
    check_packet_access(v, reg, regno, off, size)
    if not write and value_regno >= 0:
        v.set_reg(value_regno, R.scalar_unknown())


def find_good_pkt_pointers(st, dst, t: int, right_open: bool) -> None:
    if dst.off < 0 or (dst.off == 0 and right_open):
        return
    if dst.s.umax > MAX_PACKET_OFF or dst.s.umax + dst.off > MAX_PACKET_OFF:
        return
    new_range = dst.off + (1 if right_open else 0)
    did = dst.id

    def fn(r):
        if r.type == t and r.id == did and r.range < new_range:
            return r.replace(range=new_range)
        return r

    map_regs(st, fn)


def mark_pkt_end(st, regno: int, range_open: bool) -> None:
    regs = st.cur.regs
    r = regs[regno]
    if r.type != R.PTR_TO_PACKET:
        return
    regs[regno] = r.replace(range=BEYOND_PKT_END if range_open else AT_PKT_END)


def try_match(ins, d, s, this, other) -> bool:
    """try_match_pkt_pointers: True when the comparison is one between packet pointers it understands."""
    if not (ins.code & 8) or (ins.code & 7) == 6:  # BPF_X only, never JMP32
        return False
    o = ins.code & 0xF0
    if o not in (JGT, JLT, JGE, JLE):
        return False
    dst_first = (d.type == R.PTR_TO_PACKET and s.type == R.PTR_TO_PACKET_END) or \
                (d.type == R.PTR_TO_PACKET_META and is_init_pkt_pointer(s, R.PTR_TO_PACKET))
    src_first = (d.type == R.PTR_TO_PACKET_END and s.type == R.PTR_TO_PACKET) or \
                (is_init_pkt_pointer(d, R.PTR_TO_PACKET) and s.type == R.PTR_TO_PACKET_META)
    if dst_first:
        reg, regno = d, ins.dst
        # (state that gets the range, right-open, state at/after the end, range_open)
        good, right_open, bad_open = {JGT: (this, False, True), JLT: (other, True, False),
                                      JGE: (this, True, False), JLE: (other, False, True)}[o]
    elif src_first:
        reg, regno = s, ins.src
        good, right_open, bad_open = {JGT: (other, True, False), JLT: (this, False, True),
                                      JGE: (other, False, True), JLE: (this, True, False)}[o]
    else:
        return False
    bad = other if good is this else this
    find_good_pkt_pointers(good, reg, reg.type, right_open)
    mark_pkt_end(bad, regno, bad_open)
    return True


def not_null(r) -> bool:
    """reg_not_null for the pointer kinds pyverifier tracks."""
    t = r.type
    if t & R.PTR_MAYBE_NULL:
        return False
    b = R.base_type(t)
    return b in (R.PTR_TO_SOCKET, R.PTR_TO_TCP_SOCK, R.PTR_TO_MAP_VALUE, R.PTR_TO_MAP_KEY, R.PTR_TO_SOCK_COMMON,
                 R.CONST_PTR_TO_MAP) or (b == R.PTR_TO_MEM and not t & R.PTR_UNTRUSTED)


def branch_taken(d, s, o: int, is32: bool) -> int:
    """is_branch_taken when at least one operand is a pointer: -1 unknown, else 0/1."""
    if is_pkt_any(d) and is_pkt_any(s) and not is32:
        return pkt_branch_taken(d, s, o)

    def const(r):
        if r.type != R.SCALAR:
            return False
        m = r.s.var_off.mask
        return not (m & 0xFFFFFFFF if is32 else m)

    if not const(s):
        o = flip_op(o) if o in _FLIPPABLE else o
        d, s = s, d
    if not const(s) or not not_null(d):
        return -1
    val = s.s.var_off.value & (0xFFFFFFFF if is32 else (1 << 64) - 1)
    if val != 0:
        return -1
    if o == JEQ:
        return 0
    if o == JNE:
        return 1
    return -1


_FLIPPABLE = (JEQ, JNE, JGT, JGE, JLT, JLE, JSGT, JSGE, 0xC0, 0xD0, 0x40)


def pkt_branch_taken(d, s, o: int) -> int:
    """is_pkt_ptr_branch_taken: -1 unknown, else 0/1."""
    if s.type == R.PTR_TO_PACKET_END:
        pkt = d
    elif d.type == R.PTR_TO_PACKET_END:
        pkt = s
        o = flip_op(o)
    else:
        return -1
    if pkt.range >= 0:
        return -1
    if o in (JLE, JGT):
        if pkt.range == BEYOND_PKT_END:
            return int(o == JGT)
    elif o in (JLT, JGE):
        if pkt.range in (BEYOND_PKT_END, AT_PKT_END):
            return int(o == JGE)
    return -1


def clear_all_pkt_pointers(st) -> None:
    """After a helper that may change packet data: every packet pointer becomes an unknown scalar (root)."""
    map_regs(st, lambda r: R.scalar_unknown() if is_pkt_any(r) else r)
