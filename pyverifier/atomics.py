"""BPF_ATOMIC read-modify-write instructions (add/or/and/xor, with and without fetch, xchg, cmpxchg).

The kernel's check_atomic_rmw: the operands are read, the destination must be
a pointer kind atomics may use, then the memory is checked as a read, as a
fill of the fetched value into the load register (fetch forms), and as a
write; every one of those accesses is alignment-checked strictly.
"""
from __future__ import annotations

from . import memory
from . import regs as R

EINVAL = 22
BPF_FETCH = 0x01
BPF_CMPXCHG = 0xF0 | BPF_FETCH
BPF_XCHG = 0xE0 | BPF_FETCH
_RMW = {0x00, 0x40, 0x50, 0xA0}
_RMW |= {x | BPF_FETCH for x in _RMW} | {BPF_XCHG, BPF_CMPXCHG}
_LOAD_ACQ = 0x100
_STORE_REL = 0x110
_SIZES = {0x00: 4, 0x18: 8, 0x08: 2, 0x10: 1}


def check_atomic(v, ins) -> None:
    imm = ins.imm
    if imm in (_LOAD_ACQ, _STORE_REL):
        raise memory._nm("load-acquire / store-release")
    if imm not in _RMW:
        v.err(f"BPF_ATOMIC uses invalid atomic opcode {imm & 0xFFFFFFFF:02x}", EINVAL)
    size = _SIZES[ins.code & 0x18]
    if size not in (4, 8):
        v.err("invalid atomic operand size", EINVAL)
    v.check_reg_read(ins.src)
    d = v.check_reg_read(ins.dst)
    if imm == BPF_CMPXCHG:
        v.check_reg_read(0)
    t = d.type
    if t == R.PTR_TO_CTX or R.base_type(t) in (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_PACKET_END,
                                               R.PTR_TO_FLOW_KEYS, R.PTR_TO_SOCKET, R.PTR_TO_SOCK_COMMON,
                                               R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK) or t == R.PTR_TO_ARENA:
        if t == R.PTR_TO_ARENA:
            raise memory._nm("arena atomics")
        v.err(f"BPF_ATOMIC stores into R{ins.dst} {R.type_str(t)} is not allowed")
    load_reg = -1
    if imm & BPF_FETCH:
        load_reg = 0 if imm == BPF_CMPXCHG else ins.src
        v.check_reg_write(load_reg)
    _strict_alignment(v, d, ins.dst, ins.off, size)
    v.check_mem_access(ins.dst, ins.off, size, False, -1, ins, False)
    if load_reg >= 0:
        v.check_mem_access(ins.dst, ins.off, size, False, load_reg, ins, False)
    v.check_mem_access(ins.dst, ins.off, size, True, -1, ins, False)


_DESC = {R.PTR_TO_MAP_KEY: "key ", R.PTR_TO_MAP_VALUE: "value ", R.PTR_TO_STACK: "stack "}


def _strict_alignment(v, reg, regno: int, off: int, size: int) -> None:
    """check_generic_ptr_alignment with strict set (atomics always are)."""
    from . import tnum as tn

    if size == 1:
        return
    a = tn.add(reg.s.var_off, tn.const(reg.off + off))
    if (a.value | a.mask) & (size - 1):
        desc = _DESC.get(reg.type, "")
        v.err(f"misaligned {desc}access off {memory._tnum_str(reg.s.var_off)}+{reg.off}+{off} size {size}")
