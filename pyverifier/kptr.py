"""Kernel pointers stored in map values (``__kptr_untrusted`` and ``__kptr`` fields of a map's BTF).

A kptr field holds a pointer to a kernel struct (its name comes from the map's
BTF, its id from the kernel's). The rules, measured against the live kernel:

- a load, store or helper access touching the field must be a direct 8-byte
  access exactly at it with a constant offset (``check_field_access``);
- loading it gives a maybe-NULL pointer to the struct: untrusted for an
  unreferenced kptr, and for a referenced one RCU-protected (inside an RCU
  read-side section; every non-sleepable program is in one) when the kernel
  lists the struct as RCU-protected, untrusted otherwise (``load``);
- an unreferenced kptr may be stored with a register pointing to the same
  struct (trusted, RCU or untrusted) or NULL, a referenced one only through
  ``bpf_kptr_xchg``, which takes a referenced pointer and returns the old value
  as a new reference (``check_store``, ``xchg_dest``, ``match_type``).
"""
from __future__ import annotations

from errno import EACCES, EINVAL

from . import regs as R
from .btf_fields import KPTR_KINDS, KPTR_PERCPU, KPTR_REF, KPTR_UNREF, UPTR

_U64 = (1 << 64) - 1
# the kernel's name of each field kind in its messages (btf_field_type_name)
FIELD_NAME = {KPTR_UNREF: "kptr", KPTR_REF: "kptr", KPTR_PERCPU: "percpu_kptr", UPTR: "uptr"}
# kernel structs whose referenced kptrs load as RCU pointers (the kernel's rcu_protected_types)
RCU_PROTECTED = frozenset({"prog_test_ref_kfunc", "cgroup", "bpf_cpumask", "task_struct", "bpf_crypto_ctx"})


def field_name(kind: str) -> str:
    return FIELD_NAME.get(kind, kind)


def check_field_access(v, f, reg, off: int, size: int, direct: bool) -> None:
    """check_map_access on a kptr field the access touches (``off`` includes ``reg.off``)."""
    name = field_name(f.kind)
    if not direct:
        v.err(f"{name} cannot be accessed indirectly by helper")
    vo = reg.s.var_off
    if vo.mask:
        v.err(f"{name} access cannot have variable offset")
    at = (off + vo.value) & _U64
    if f.offset != at:
        v.err(f"{name} access misaligned expected={f.offset} off={at}")
    if size != 8:
        v.err(f"{name} access size must be BPF_DW")


def find(rec, off: int):
    """The kptr field starting at ``off`` of a map value record, or None."""
    if rec is None:
        return None
    for f in rec.fields:
        if f.offset == off and f.kind in KPTR_KINDS:
            return f
    return None


def target_id(v, f) -> int:
    """The kernel's BTF id of the struct kptr field ``f`` points to."""
    from .btf import STRUCT
    from .btf_access import kernel_btf

    ids = kernel_btf(v).find(f.target, STRUCT)
    if not ids:
        from .verifier import NotModelled

        raise NotModelled(f"kptr to struct {f.target}, which the kernel's BTF does not have (a program type?)")
    return ids[0]


def access(v, f, ins, value_regno: int) -> None:
    """check_map_kptr_access: the load or store of a kptr field (the offset and size were checked)."""
    cls = ins.code & 7
    if ins.code & 0xE0 != 0x60:  # BPF_MEM
        v.err("kptr in map can only be accessed using BPF_MEM instruction mode")
    if f.kind not in (KPTR_UNREF, KPTR_REF):
        from .verifier import NotModelled

        raise NotModelled(f"{f.kind} fields")
    if cls != 1 and f.kind == KPTR_REF:  # not BPF_LDX
        v.err("store to referenced kptr disallowed")
    if cls == 1:
        load(v, f, value_regno)
    elif cls == 3:  # BPF_STX
        val = v.state.cur.regs[value_regno]
        if not (val.type == R.SCALAR and not val.s.var_off.mask and val.s.var_off.value == 0):
            match_type(v, f, val, value_regno)
    elif cls == 2:  # BPF_ST
        if ins.imm:
            v.err(f"BPF_ST imm must be 0 when storing to kptr at off={f.offset}")
    else:
        v.err("kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST")


def load(v, f, regno: int) -> None:
    from .btf_access import in_rcu_cs, mark_btf_ld_reg

    flag = R.PTR_MAYBE_NULL
    if f.kind == KPTR_REF and f.target in RCU_PROTECTED and in_rcu_cs(v):
        flag |= R.MEM_RCU
    else:
        flag |= R.PTR_UNTRUSTED
    mark_btf_ld_reg(v, regno, R.PTR_TO_BTF_ID, target_id(v, f), flag)


def match_type(v, f, reg, regno: int) -> None:
    """map_kptr_match_type: the pointer stored into (or exchanged with) kptr field ``f``."""
    from .btf_access import kernel_btf, struct_ids_match

    tid = target_id(v, f)
    allowed = R.PTR_MAYBE_NULL | R.PTR_TRUSTED | R.MEM_RCU
    if f.kind == KPTR_UNREF:
        allowed |= R.PTR_UNTRUSTED
    ok = reg.type & R.BASE_MASK == R.PTR_TO_BTF_ID and not reg.type & ~R.BASE_MASK & ~allowed
    reg_name = ""
    if ok:
        reg_name = R.btf_type_name(reg.mem_size)
        vo = reg.s.var_off
        if reg.off < 0:
            v.err(f"negative offset {R.type_str(reg.type)} ptr R{regno} off={reg.off} disallowed")
        if vo.mask or vo.value:
            from .log import fmt_tnum

            v.err(f"variable {R.type_str(reg.type)} access var_off={fmt_tnum(vo.value, vo.mask)} disallowed")
        matched, lines = struct_ids_match(kernel_btf(v), reg.mem_size, reg.off, tid, f.kind != KPTR_UNREF)
        for line in lines:
            v.log.write(line + "\n")
        ok = matched
    if ok:
        return
    target = f.target
    msg = (f"invalid kptr access, R{regno} type={R.type_str(reg.type)}{reg_name} "
           f"expected={R.type_str(R.PTR_TO_BTF_ID)}{target}")
    if f.kind == KPTR_UNREF:
        msg += f" or {R.type_str(R.PTR_TO_BTF_ID | R.PTR_UNTRUSTED)}{target}"
    v.err(msg)


def xchg_dest(v, reg, regno: int):
    """process_kptr_func: bpf_kptr_xchg's first argument, a map value pointer at a referenced kptr field."""
    m = reg.map
    if not m.btf:
        v.err(f"map '{m.name}' has to have BTF in order to use bpf_kptr_xchg", EINVAL)
    if reg.s.var_off.mask:
        v.err(f"R{regno} doesn't have constant offset. kptr has to be at the constant offset", EINVAL)
    rec = m.record
    if rec is None or not any(f.kind in KPTR_KINDS for f in rec.fields):
        v.err(f"R{regno} has no valid kptr", EINVAL)
    at = reg.off + reg.s.var_off.value
    f = find(rec, at)
    if f is None:
        v.err(f"off={at} doesn't point to kptr", EACCES)
    if f.kind not in (KPTR_REF, KPTR_PERCPU):
        v.err(f"off={at} kptr isn't referenced kptr", EACCES)
    if f.kind != KPTR_REF:
        from .verifier import NotModelled

        raise NotModelled(f"bpf_kptr_xchg on a {f.kind} field")
    return f
