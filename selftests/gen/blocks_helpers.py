"""Blocks about helper calls: computed sizes, stack keys and values, unknown sources, legacy packet loads."""
from __future__ import annotations

from pyverifier.opcodes import BPF_ADD, BPF_AND, BPF_JEQ, BPF_JNE, BPF_JSLT, BPF_LSH, BPF_MOV

from . import profiles as P
from .blocks_alu import chain_access
from .context import Gen, NoRoom, Region


def _size_arg(g: Gen, reg: int, room: int, nonzero: bool) -> None:
    """``reg`` = a length in [0 or 1, room] for a helper writing ``room`` bytes of stack."""
    rng = g.rng
    if rng.percent(15):
        g.set_const(reg, room + rng.pick((1, 8)) if g.want_flaw() else rng.between(1, room))
        return
    g.unknown(reg)
    if nonzero and rng.percent(40) and g.want_flaw():
        g.bound(reg, room, 1, allow_flaw=False)  # the flaw: zero is possible, the helper wants a byte
        return
    g.bound(reg, room - 1 if nonzero else room, 1)
    if nonzero:
        g.op_imm(BPF_ADD, reg, 1)


def block_read_helper(g: Gen) -> None:
    """Copy bytes into a stack buffer with a computed length, then read the buffer at a bounded index."""
    rng, b = g.rng, g.b
    room = rng.pick((8, 16, 32, 64, 128))
    buf = g.alloc(room)
    if g.p.tracing:
        helper = rng.weighted(((P.PROBE_READ_KERNEL, 5), (P.PROBE_READ_KERNEL_STR, 2), (P.GET_CURRENT_COMM, 2)))
    else:
        helper = g.p.load_bytes
        if helper is None:
            raise NoRoom("no copy helper")
    if helper in (P.PROBE_READ_KERNEL, P.PROBE_READ_KERNEL_STR):
        _size_arg(g, 2, room, nonzero=False)
        g.unknown(3)  # any address: the helper copes with a fault
        g.tag("probe_read")
    elif helper == P.GET_CURRENT_COMM:
        _size_arg(g, 2, room, nonzero=True)
    else:
        _size_arg(g, 4, room, nonzero=True)
        if rng.percent(50):
            g.set_const(2, rng.pick((0, 12, 14, 23, 34)))
        else:
            g.unknown(2)
            g.op_imm(BPF_AND, 2, rng.pick((0xFF, 0x3FF, 0xFFFF)))
        b.mov(3, 10)
        b.alu_imm(BPF_ADD, 3, buf)
        b.mov(1, 6)
        g.tag("skb_load_bytes" if helper == P.SKB_LOAD_BYTES else "xdp_load_bytes")
    if helper != P.SKB_LOAD_BYTES and helper != P.XDP_LOAD_BYTES:
        b.mov(1, 10)
        b.alu_imm(BPF_ADD, 1, buf)
    b.call(helper)
    g.tag("helper")
    g.sv.clear()
    if helper in (P.SKB_LOAD_BYTES, P.XDP_LOAD_BYTES) and rng.percent(60):
        b.jmp_imm(BPF_JSLT, 0, 0, g.skip)
    if rng.percent(70):
        base = g.pick(1)[0]
        b.mov(base, 10)
        b.alu_imm(BPF_ADD, base, buf)
        rg = Region("stack", base, room, True, tight=buf + room == 0)
        i = g.pick(1, avoid=[base])[0]
        g.unknown(i)
        chain_access(g, i, rg, [base], rng.pick((1, 1, 2, 4, 8)))


def block_map_update(g: Gen) -> None:
    """bpf_map_update_elem, delete or lookup with a key (and a value) built on the stack."""
    rng, b = g.rng, g.b
    kind = rng.pick(("hash", "array"))
    idx = g.map_index(kind)
    spec = g.maps[idx]
    op = rng.weighted(((P.MAP_UPDATE, 4), (P.MAP_DELETE, 1 if kind == "hash" else 0), (P.MAP_LOOKUP, 1)))
    key = g.alloc(max(8, spec.key_size))
    for o in range(0, spec.key_size, 4):
        if rng.percent(40):
            r = g.pick(1)[0]
            g.unknown(r)
            if kind == "array":
                g.op_imm(BPF_AND, r, spec.max_entries - 1)
            b.stx(4, 10, r, key + o)
        else:
            b.st(4, 10, key + o, rng.below(spec.max_entries) if kind == "array" else rng.bits(10))
    if op == P.MAP_UPDATE:
        val = g.alloc(-(-spec.value_size // 8) * 8)
        for o in range(0, spec.value_size, 8):
            if rng.percent(70):
                b.st(8, 10, val + o, rng.bits(16))
            else:
                r = g.pick(1)[0]
                g.unknown(r)
                b.stx(8, 10, r, val + o)
        b.mov(3, 10)
        b.alu_imm(BPF_ADD, 3, val)
        b.mov_imm(4, rng.pick((0, 0, 0, 1, 2)))
    b.ld_map(1, idx)
    b.mov(2, 10)
    b.alu_imm(BPF_ADD, 2, key)
    b.call(op)
    g.tag("helper", "map", "map_helper")
    g.sv.clear()
    if op == P.MAP_LOOKUP:
        b.jmp_imm(BPF_JEQ, 0, 0, g.skip)
        b.ldx(rng.pick((1, 2, 4, 8)) if spec.value_size >= 8 else 1, 1, 0, 0)
    elif rng.percent(50):
        b.mov(1, 0)  # the helper's int result
        g.sv[1] = g.samples("u64")
        b.jmp_imm(BPF_JNE, 1, 0, g.skip)


def block_prandom(g: Gen) -> None:
    """A fresh unknown from bpf_get_prandom_u32 (or another value helper) into the pool."""
    rng, b = g.rng, g.b
    if not g.pool:
        raise NoRoom("no pool")
    helper = rng.pick((P.GET_PRANDOM_U32, P.GET_PRANDOM_U32, P.KTIME_GET_NS, P.GET_SMP_PROCESSOR_ID)
                      + ((P.GET_CURRENT_PID_TGID,) if g.p.tracing else ()))
    b.call(helper)
    kind = "u32" if helper in (P.GET_PRANDOM_U32, P.GET_SMP_PROCESSOR_ID) else "u64"
    g.tag("helper", "prandom" if helper == P.GET_PRANDOM_U32 else "helper")
    g.sv = {0: g.samples(kind)}
    if rng.percent(50):
        chain_access(g, 0, None, [], rng.pick((1, 2, 4, 8)))
    else:
        slot = rng.below(len(g.pool))
        b.stx(8, 10, 0, g.pool[slot][0])
        g.pool[slot] = (g.pool[slot][0], "u64")
        g.tag("spill")


def block_ld_abs(g: Gen) -> None:
    """Legacy packet loads: an IPv4 header length via LD_ABS, then LD_IND at that offset."""
    if not g.p.ld_abs or g.subprogs:
        raise NoRoom("no LD_ABS here")
    rng, b = g.rng, g.b
    g.use_ld_abs = True
    b.ld_abs(1, 14)
    g.sv = {0: g.samples("u8")}
    g.op_imm(BPF_AND, 0, 0xF)
    g.op_imm(BPF_LSH, 0, 2)
    v = g.pick(1, saved=True)[0]
    g.op_reg(BPF_MOV, v, 0)
    b.ld_ind(rng.pick((1, 2, 4)), v, 14 + rng.pick((0, 2, 9, 12)))
    g.sv[0] = g.samples(rng.pick(("u8", "u16", "u32")))
    g.tag("ld_abs", "packet")
    if rng.percent(60):
        chain_access(g, 0, None, [v], rng.pick((1, 2, 4, 8)))
