"""BPF_ATOMIC instructions: read-modify-write, load-acquire and store-release.

- Read-modify-write (add/or/and/xor, with and without fetch, xchg, cmpxchg;
  the kernel's check_atomic_rmw): 32- and 64-bit only; the operands are read,
  the destination must be a pointer kind atomics may use, then the memory is
  checked as a read, as a fill of the fetched value into the load register
  (fetch forms), and as a write.
- Load-acquire (``rD = load_acquire((uN *)(rS +off))``, check_atomic_load): a
  load of any size; the pointer kind is checked after the access.
- Store-release (``store_release((uN *)(rD +off), rS)``, check_atomic_store): a
  store of any size, the pointer kind checked after the access.
Every one of those accesses is alignment-checked strictly.
"""
from __future__ import annotations

from . import regs as R
from .memory import save_ptr_type

EINVAL = 22
BPF_FETCH = 0x01
BPF_CMPXCHG = 0xF0 | BPF_FETCH
BPF_XCHG = 0xE0 | BPF_FETCH
_RMW = {0x00, 0x40, 0x50, 0xA0}
_RMW |= {x | BPF_FETCH for x in _RMW} | {BPF_XCHG, BPF_CMPXCHG}
_LOAD_ACQ = 0x100
_STORE_REL = 0x110
_SIZES = {0x00: 4, 0x18: 8, 0x08: 2, 0x10: 1}
_NOT_OK = (R.PTR_TO_PACKET, R.PTR_TO_PACKET_META, R.PTR_TO_PACKET_END, R.PTR_TO_FLOW_KEYS, R.PTR_TO_SOCKET,
           R.PTR_TO_SOCK_COMMON, R.PTR_TO_TCP_SOCK, R.PTR_TO_XDP_SOCK)


def _ptr_type_ok(v, t: int) -> bool:
    """atomic_ptr_type_ok."""
    if t == R.PTR_TO_ARENA:
        from .memory import _nm

        raise _nm("arena atomics")
    return not (t == R.PTR_TO_CTX or R.base_type(t) in _NOT_OK)


def check_atomic(v, ins) -> None:
    imm = ins.imm
    size = _SIZES[ins.code & 0x18]
    if imm == _LOAD_ACQ:
        check_load_acquire(v, ins, size)
        return
    if imm == _STORE_REL:
        check_store_release(v, ins, size)
        return
    if imm not in _RMW:
        v.err(f"BPF_ATOMIC uses invalid atomic opcode {imm & 0xFFFFFFFF:02x}", EINVAL)
    if size not in (4, 8):
        v.err("invalid atomic operand size", EINVAL)
    v.check_reg_read(ins.src)
    d = v.check_reg_read(ins.dst)
    if imm == BPF_CMPXCHG:
        v.check_reg_read(0)
    t = d.type
    if not _ptr_type_ok(v, t):
        v.err(f"BPF_ATOMIC stores into R{ins.dst} {R.type_str(t)} is not allowed")
    load_reg = -1
    if imm & BPF_FETCH:
        load_reg = 0 if imm == BPF_CMPXCHG else ins.src
        v.check_reg_write(load_reg)
    v.check_mem_access(ins.dst, ins.off, size, False, -1, ins, False, True)
    if load_reg >= 0:
        v.check_mem_access(ins.dst, ins.off, size, False, load_reg, ins, False, True)
    v.check_mem_access(ins.dst, ins.off, size, True, -1, ins, False, True)


def check_load_acquire(v, ins, size: int) -> None:
    """check_atomic_load: check_load_mem with strict alignment, then the pointer kind."""
    v.check_reg_read(ins.src)
    v.check_reg_write(ins.dst)
    t0 = v.state.cur.regs[ins.src].type
    v.check_mem_access(ins.src, ins.off, size, False, ins.dst, ins, False, True)
    save_ptr_type(v, t0, False)
    t = v.state.cur.regs[ins.src].type  # after the load, as the kernel looks (src may be the destination)
    if not _ptr_type_ok(v, t):
        v.err(f"BPF_ATOMIC loads from R{ins.src} {R.type_str(t)} is not allowed")


def check_store_release(v, ins, size: int) -> None:
    """check_atomic_store: check_store_reg with strict alignment, then the pointer kind."""
    v.check_reg_read(ins.src)
    t0 = v.check_reg_read(ins.dst).type
    v.check_mem_access(ins.dst, ins.off, size, True, ins.src, ins, False, True)
    save_ptr_type(v, t0, False)
    t = v.state.cur.regs[ins.dst].type
    if not _ptr_type_ok(v, t):
        v.err(f"BPF_ATOMIC stores into R{ins.dst} {R.type_str(t)} is not allowed")
