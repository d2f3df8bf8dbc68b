"""CO-RE: resolving ``.BTF.ext`` relocations of a BPF object against a target kernel's BTF.

A CO-RE relocation names a local type of the object (its ``.BTF``), an access
path into it (``"0:1:2"``: index into the root, then member/array indices) and
what the instruction needs: a field's byte offset, size, existence, signedness or
bitfield shifts; a type's existence, size, id or match; an enum value's existence
or value. ``CoreResolver.resolve`` finds the same target the way libbpf does
(candidates: target types whose name without ``___flavor`` is the local one's;
fields matched by name through anonymous members; every matching candidate must
agree) and ``patch_insn`` rewrites the instruction: the ``imm`` of an ALU
immediate or ``ld_imm64``, the ``off`` (and, where safe, the size) of a load or
store. A relocation whose target is missing poisons the instruction as libbpf
does (``call 0xbad2310``: the verifier accepts it only as dead code);
an ambiguous or malformed relocation raises ``CoreError``, which makes libbpf
refuse the whole object.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pyverifier.insn import Insn
from pyverifier import opcodes as op

from . import btf as B
from .btf import Btf, BtfError, BtfType, essential_name
from .btf_ext import (
    CORE_KIND_NAMES,
    ENUMVAL_EXISTS,
    ENUMVAL_VALUE,
    FIELD_BYTE_OFFSET,
    FIELD_BYTE_SIZE,
    FIELD_EXISTS,
    FIELD_LSHIFT_U64,
    FIELD_RSHIFT_U64,
    FIELD_SIGNED,
    TYPE_EXISTS,
    TYPE_ID_LOCAL,
    TYPE_ID_TARGET,
    TYPE_MATCHES,
    TYPE_SIZE,
    CoreRelo,
)

POISON_IMM = 195896080  # 0xbad2310: the helper id libbpf writes into a poisoned instruction
SPEC_MAX_LEN = 64

FIELD_KINDS = frozenset((FIELD_BYTE_OFFSET, FIELD_BYTE_SIZE, FIELD_EXISTS, FIELD_SIGNED, FIELD_LSHIFT_U64,
                         FIELD_RSHIFT_U64))
TYPE_KINDS = frozenset((TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE, TYPE_MATCHES))
ENUMVAL_KINDS = frozenset((ENUMVAL_EXISTS, ENUMVAL_VALUE))


class CoreError(Exception):
    """The relocation cannot be applied (libbpf would refuse to load the object)."""


class _Poison(Exception):
    """Internal: the relocation asks for the instruction to be poisoned."""


@dataclass
class Accessor:
    type_id: int
    idx: int
    name: str | None  # None: an array index


@dataclass
class Spec:
    btf: Btf
    root_type_id: int
    kind: int
    spec: list[Accessor] = field(default_factory=list)  # high level: named fields and array indices
    raw: list[int] = field(default_factory=list)  # low level: every index, anonymous members included
    bit_offset: int = 0

    def describe(self) -> str:
        t = self.btf.type(self.root_type_id)
        s = f"[{self.root_type_id}] {t.kind_name} {t.name or '<anon>'}"
        if self.kind in FIELD_KINDS:
            path = ""
            for i, a in enumerate(self.spec):
                if a.name:
                    path += "." + a.name
                elif i > 0 or a.idx > 0:
                    path += f"[{a.idx}]"
            s += f"{path} ({':'.join(map(str, self.raw))} @ offset {self.bit_offset // 8}"
            s += f".{self.bit_offset % 8})" if self.bit_offset % 8 else ")"
        return s


@dataclass
class CoreResult:
    orig_val: int = 0
    new_val: int = 0
    poison: bool = False
    validate: bool = True
    fail_memsz_adjust: bool = False
    orig_sz: int = 0
    new_sz: int = 0
    orig_type_id: int = 0
    new_type_id: int = 0
    target: str | None = None  # description of the matched target, None when none matched


def _kind_compat(a: BtfType, b: BtfType) -> bool:
    return a.kind == b.kind or (a.is_any_enum and b.is_any_enum)


def _int_offset(t: BtfType) -> int:
    return t.extra[1]


def _int_encoding(t: BtfType) -> int:
    return t.extra[0]


# --- local spec ------------------------------------------------------------

def parse_spec(btf: Btf, relo: CoreRelo) -> Spec:
    """The local spec of ``relo`` (libbpf's bpf_core_parse_spec). Raises CoreError."""
    spec = Spec(btf, relo.type_id, relo.kind)
    s = relo.access
    if not s or s[0] == ":":
        raise CoreError(f"bad access string {s!r}")
    if relo.kind in TYPE_KINDS:
        if s != "0":
            raise CoreError(f"type-based relocation with access string {s!r} (expected '0')")
        return spec
    try:
        raw = [int(x) for x in s.split(":")]
    except ValueError:
        raise CoreError(f"bad access string {s!r}") from None
    if any(x < 0 for x in raw) or len(raw) > SPEC_MAX_LEN:
        raise CoreError(f"bad access string {s!r}")
    spec.raw = raw
    tid, t = btf.skip_mods_and_typedefs(relo.type_id)
    acc = Accessor(tid, raw[0], None)
    spec.spec.append(acc)
    if relo.kind in ENUMVAL_KINDS:
        if not t.is_any_enum or len(raw) > 1 or raw[0] >= t.vlen:
            raise CoreError(f"enum value relocation {s!r} does not name an enumerator of {btf.type_str(tid)}")
        acc.name = t.members[raw[0]][0]
        return spec
    if relo.kind not in FIELD_KINDS:
        raise CoreError(f"unknown CO-RE relocation kind {relo.kind}")
    sz = btf.resolve_size(tid)
    spec.bit_offset = raw[0] * sz * 8
    for i in range(1, len(raw)):
        tid, t = btf.skip_mods_and_typedefs(tid)
        idx = raw[i]
        if t.is_composite:
            if idx >= t.vlen:
                raise CoreError(f"member index {idx} out of range in {btf.type_str(tid)}")
            spec.bit_offset += t.member_bit_offset(idx)
            mname, mtype, _ = t.members[idx]
            if mname:
                spec.spec.append(Accessor(tid, idx, mname))
            tid = mtype
        elif t.kind == B.ARRAY:
            elem, _, nelems = t.extra
            prev = spec.spec[-1]
            flex = _is_flex_arr(btf, prev, nelems)
            tid, _t = btf.skip_mods_and_typedefs(elem)
            if not flex and idx >= nelems:
                raise CoreError(f"array index {idx} out of range ({nelems} elements)")
            spec.spec.append(Accessor(tid, idx, None))
            spec.bit_offset += idx * btf.resolve_size(tid) * 8
        else:
            raise CoreError(f"access {s!r} at position {i} goes into {btf.type_str(tid)}, neither struct nor array")
    return spec


def _is_flex_arr(btf: Btf, acc: Accessor, nelems: int) -> bool:
    if acc.name is None or nelems > 0:
        return False
    t = btf.type(acc.type_id)
    return acc.idx == t.vlen - 1


# --- compatibility rules ---------------------------------------------------

def _fields_compat(lb: Btf, lid: int, tb: Btf, tid: int) -> bool:
    for _ in range(B.MAX_RESOLVE_DEPTH):
        lid, lt = lb.skip_mods_and_typedefs(lid)
        tid, tt = tb.skip_mods_and_typedefs(tid)
        if lt.is_composite and tt.is_composite:
            return True
        if not _kind_compat(lt, tt):
            return False
        k = lt.kind
        if k in (B.PTR, B.FLOAT):
            return True
        if k in (B.FWD, B.ENUM, B.ENUM64):
            ln, tn = essential_name(lt.name), essential_name(tt.name)
            return not ln or not tn or ln == tn
        if k == B.INT:
            return _int_offset(lt) == 0 and _int_offset(tt) == 0
        if k == B.ARRAY:
            lid, tid = lt.extra[0], tt.extra[0]
            continue
        return False
    raise CoreError("type nesting too deep")


def types_are_compat(lb: Btf, lid: int, tb: Btf, tid: int, level: int = 32) -> bool:
    """libbpf's __bpf_core_types_are_compat: the relation TYPE_EXISTS/TYPE_SIZE/TYPE_ID use."""
    if not _kind_compat(lb.type(lid), tb.type(tid)):
        return False
    for _ in range(32):
        lid, lt = lb.skip_mods_and_typedefs(lid)
        tid, tt = tb.skip_mods_and_typedefs(tid)
        if not _kind_compat(lt, tt):
            return False
        k = lt.kind
        if k in (B.UNKN, B.STRUCT, B.UNION, B.ENUM, B.FWD, B.ENUM64):
            return True
        if k == B.INT:
            return _int_offset(lt) == 0 and _int_offset(tt) == 0
        if k == B.PTR:
            lid, tid = lt.size_type, tt.size_type
            continue
        if k == B.ARRAY:
            lid, tid = lt.extra[0], tt.extra[0]
            continue
        if k == B.FUNC_PROTO:
            if lt.vlen != tt.vlen:
                return False
            for (_, lp), (_, tp) in zip(lt.members, tt.members):
                if level <= 0:
                    raise CoreError("function prototype nesting too deep")
                a, _ = lb.skip_mods_and_typedefs(lp)
                b, _ = tb.skip_mods_and_typedefs(tp)
                if not types_are_compat(lb, a, tb, b, level - 1):
                    return False
            lid, _ = lb.skip_mods_and_typedefs(lt.size_type)
            tid, _ = tb.skip_mods_and_typedefs(tt.size_type)
            continue
        return False
    raise CoreError("type nesting too deep")


def _names_match(ln: str, tn: str) -> bool:
    if not tn:
        return not ln
    return essential_name(ln) == essential_name(tn)


def types_match(lb: Btf, lid: int, tb: Btf, tid: int, behind_ptr: bool = False, level: int = 32) -> bool:
    """libbpf's __bpf_core_types_match: the stricter relation of TYPE_MATCHES."""
    if level <= 0:
        raise CoreError("type nesting too deep")
    for _ in range(32):
        lid, lt = lb.skip_mods_and_typedefs(lid)
        tid, tt = tb.skip_mods_and_typedefs(tid)
        if not _names_match(lt.name, tt.name):
            return False
        lk, tk = lt.kind, tt.kind
        if lk == B.UNKN:
            return lk == tk
        if lk == B.FWD:
            lf = lt.kflag
            if behind_ptr:
                if lk == tk:
                    return lf == tt.kflag
                return (tk == B.STRUCT and not lf) or (tk == B.UNION and lf)
            return lk == tk and lf == tt.kflag
        if lk in (B.ENUM, B.ENUM64):
            if not tt.is_any_enum or lt.size_type != tt.size_type or lt.vlen > tt.vlen:
                return False
            return all(any(_names_match(ln, tn) for tn, _ in tt.members) for ln, _ in lt.members)
        if lk in (B.STRUCT, B.UNION):
            if behind_ptr:
                if lk == tk:
                    return True
                if tk != B.FWD:
                    return False
                return (lk == B.UNION) == tt.kflag
            if lk != tk or lt.vlen > tt.vlen:
                return False
            for ln, ltype, _ in lt.members:
                if not any(
                    _names_match(ln, tn) and types_match(lb, ltype, tb, ttype, behind_ptr, level - 1)
                    for tn, ttype, _ in tt.members
                ):
                    return False
            return True
        if lk == B.INT:
            if lk != tk:
                return False
            return lt.size_type == tt.size_type and (_int_encoding(lt) & B.INT_SIGNED) == (
                _int_encoding(tt) & B.INT_SIGNED)
        if lk == B.PTR:
            if lk != tk:
                return False
            behind_ptr = True
            lid, tid = lt.size_type, tt.size_type
            continue
        if lk == B.ARRAY:
            if lk != tk or lt.extra[2] != tt.extra[2]:
                return False
            lid, tid = lt.extra[0], tt.extra[0]
            continue
        if lk == B.FUNC_PROTO:
            if lk != tk or lt.vlen != tt.vlen:
                return False
            for (_, lp), (_, tp) in zip(lt.members, tt.members):
                if not types_match(lb, lp, tb, tp, behind_ptr, level - 1):
                    return False
            lid, tid = lt.size_type, tt.size_type
            continue
        return False
    raise CoreError("type nesting too deep")


# --- matching a candidate --------------------------------------------------

def _match_member(lb: Btf, lacc: Accessor, tb: Btf, tid: int, spec: Spec) -> tuple[bool, int]:
    """Find the local named member in target type ``tid`` (recursing into anonymous members)."""
    tid, tt = tb.skip_mods_and_typedefs(tid)
    if not tt.is_composite:
        return False, tid
    lt = lb.type(lacc.type_id)
    lname, ltype, _ = lt.members[lacc.idx]
    for i, (tname, ttype, _) in enumerate(tt.members):
        if len(spec.raw) >= SPEC_MAX_LEN:
            raise CoreError("struct/union/array nesting too deep")
        bit = tt.member_bit_offset(i)
        spec.bit_offset += bit
        spec.raw.append(i)
        if not tname:
            found, nxt = _match_member(lb, lacc, tb, ttype, spec)
            if found:
                return True, nxt
        elif tname == lname:
            spec.spec.append(Accessor(tid, i, tname))
            if _fields_compat(lb, ltype, tb, ttype):
                return True, ttype
            spec.spec.pop()
            return False, ttype
        spec.bit_offset -= bit
        spec.raw.pop()
    return False, tid


def spec_match(local: Spec, tb: Btf, targ_id: int) -> Spec | None:
    """The target spec if candidate ``targ_id`` matches ``local``, else None (bpf_core_spec_match)."""
    targ = Spec(tb, targ_id, local.kind)
    if local.kind in TYPE_KINDS:
        if local.kind == TYPE_MATCHES:
            ok = types_match(local.btf, local.root_type_id, tb, targ_id)
        else:
            ok = types_are_compat(local.btf, local.root_type_id, tb, targ_id)
        return targ if ok else None
    if local.kind in ENUMVAL_KINDS:
        tid, tt = tb.skip_mods_and_typedefs(targ_id)
        if not tt.is_any_enum:
            return None
        want = essential_name(local.spec[0].name or "")
        for i, (n, _v) in enumerate(tt.members):
            if essential_name(n) == want:
                targ.spec.append(Accessor(tid, i, n))
                targ.raw.append(i)
                return targ
        return None
    tid = targ_id
    for i, lacc in enumerate(local.spec):
        tid, tt = tb.skip_mods_and_typedefs(tid)
        if lacc.name is not None:
            found, tid = _match_member(local.btf, lacc, tb, tid, targ)
            if not found:
                return None
        else:
            if i > 0:
                if tt.kind != B.ARRAY:
                    return None
                elem, _, nelems = tt.extra
                flex = _is_flex_arr(tb, targ.spec[-1], nelems)
                if not flex and lacc.idx >= nelems:
                    return None
                tid, _ = tb.skip_mods_and_typedefs(elem)
            if len(targ.raw) >= SPEC_MAX_LEN:
                raise CoreError("struct/union/array nesting too deep")
            targ.spec.append(Accessor(tid, lacc.idx, None))
            targ.raw.append(lacc.idx)
            targ.bit_offset += lacc.idx * tb.resolve_size(tid) * 8
    return targ


# --- computing values ------------------------------------------------------

def _field_relo(kind: int, spec: Spec | None, want_validate: bool):
    """(value, field size, field type id, validate) of a field-based relocation on ``spec``."""
    if kind == FIELD_EXISTS:
        return (1 if spec is not None else 0), 0, 0, True
    if spec is None:
        raise _Poison()
    btf = spec.btf
    acc = spec.spec[-1]
    if acc.name is None:  # a[n]
        if kind == FIELD_BYTE_OFFSET:
            return spec.bit_offset // 8, btf.resolve_size(acc.type_id), acc.type_id, True
        if kind == FIELD_BYTE_SIZE:
            return btf.resolve_size(acc.type_id), 0, 0, True
        raise CoreError(f"relocation {CORE_KIND_NAMES[kind]} cannot be applied to an array access")
    t = btf.type(acc.type_id)
    mtype = t.members[acc.idx][1]
    ftid, mt = btf.skip_mods_and_typedefs(mtype)
    bit_off = spec.bit_offset
    bit_sz = t.member_bitfield_size(acc.idx)
    bitfield = bit_sz > 0
    if bitfield:
        byte_sz = mt.size_type
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            if byte_sz >= 8:
                raise CoreError("bitfield cannot be read with a 64-bit load")
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    else:
        byte_sz = btf.resolve_size(ftid)
        byte_off = bit_off // 8
        bit_sz = byte_sz * 8
    validate = not bitfield
    fsz, ftype = 0, 0
    if kind == FIELD_BYTE_OFFSET:
        val = byte_off
        if not bitfield:
            fsz, ftype = byte_sz, ftid
    elif kind == FIELD_BYTE_SIZE:
        val = byte_sz
    elif kind == FIELD_SIGNED:
        val = int((mt.is_any_enum and mt.kflag) or (mt.kind == B.INT and bool(_int_encoding(mt) & B.INT_SIGNED)))
        validate = True
    elif kind == FIELD_LSHIFT_U64:
        val = 64 - (bit_off + bit_sz - byte_off * 8)
    elif kind == FIELD_RSHIFT_U64:
        val = 64 - bit_sz
        validate = True
    else:
        raise CoreError(f"unknown field relocation kind {kind}")
    return val, fsz, ftype, validate


def _type_relo(kind: int, spec: Spec | None) -> int:
    if spec is None:
        return 0
    if kind == TYPE_ID_TARGET:
        return spec.root_type_id
    if kind in (TYPE_EXISTS, TYPE_MATCHES):
        return 1
    if kind == TYPE_SIZE:
        return spec.btf.resolve_size(spec.root_type_id)
    raise CoreError(f"unknown type relocation kind {kind}")


def _enumval_relo(kind: int, spec: Spec | None) -> int:
    if kind == ENUMVAL_EXISTS:
        return 1 if spec is not None else 0
    if spec is None:
        raise _Poison()
    t = spec.btf.type(spec.spec[0].type_id)
    return t.members[spec.spec[0].idx][1]


def calc_relo(relo: CoreRelo, local: Spec, targ: Spec | None) -> CoreResult:
    res = CoreResult()
    k = relo.kind
    try:
        if k in FIELD_KINDS:
            res.orig_val, res.orig_sz, res.orig_type_id, res.validate = _field_relo(k, local, True)
            res.new_val, res.new_sz, res.new_type_id, _ = _field_relo(k, targ, False)
            if res.orig_sz != res.new_sz:
                ot = local.btf.type(res.orig_type_id)
                nt = targ.btf.type(res.new_type_id)  # type: ignore[union-attr]
                safe = (ot.kind == B.PTR and nt.kind == B.PTR) or (
                    ot.kind == B.INT and nt.kind == B.INT and _int_encoding(ot) != B.INT_SIGNED
                    and _int_encoding(nt) != B.INT_SIGNED
                )
                res.fail_memsz_adjust = not safe
        elif k in TYPE_KINDS:
            res.orig_val = _type_relo(k, local)
            res.new_val = _type_relo(k, targ)
            res.validate = k != TYPE_ID_TARGET
        elif k in ENUMVAL_KINDS:
            res.orig_val = _enumval_relo(k, local)
            res.new_val = _enumval_relo(k, targ)
        else:
            raise CoreError(f"unknown CO-RE relocation kind {k}")
    except _Poison:
        res.poison = True
    except BtfError as e:
        raise CoreError(str(e)) from None
    return res


class CoreResolver:
    """Resolves the CO-RE relocations of one object (``local``) against ``targets``.

    ``targets[0]`` is the kernel's BTF; later entries (module BTFs) are searched
    only when it has no candidate, as libbpf does. Candidate lists are cached per
    local type and narrowed to the matching ones as relocations are resolved, so
    relocations must be resolved in ``.BTF.ext`` order to decide as libbpf does.
    """

    def __init__(self, local: Btf, targets: list[Btf]):
        self.local = local
        self.targets = targets
        self._cands: dict[int, list[tuple[Btf, int]]] = {}

    def candidates(self, local_id: int) -> list[tuple[Btf, int]]:
        cands = self._cands.get(local_id)
        if cands is not None:
            return cands
        lt = self.local.type(local_id)
        if not lt.name:
            raise CoreError(f"relocation against anonymous type {self.local.type_str(local_id)} is not supported")
        ess = essential_name(lt.name)
        cands = []
        for tb in self.targets:
            for tid in tb.find_essential(ess):
                if tid < tb.start_id:
                    continue
                if _kind_compat(tb.types[tid], lt):
                    cands.append((tb, tid))
            if cands:
                break
        self._cands[local_id] = cands
        return cands

    def resolve(self, relo: CoreRelo) -> CoreResult:
        """Raises CoreError when libbpf would refuse the relocation."""
        lb = self.local
        try:
            lt = lb.type(relo.type_id)
        except BtfError as e:
            raise CoreError(str(e)) from None
        try:
            local = parse_spec(lb, relo)
        except BtfError as e:
            raise CoreError(f"parsing {lb.type_str(relo.type_id)} + {relo.access} failed: {e}") from None
        if relo.kind == TYPE_ID_LOCAL:
            return CoreResult(orig_val=relo.type_id, new_val=relo.type_id, validate=False,
                              target=local.describe())
        if not lt.name:
            raise CoreError(
                f"<{CORE_KIND_NAMES.get(relo.kind, relo.kind)}> relocation against an anonymous type is not supported")
        cands = self.candidates(relo.type_id)
        kept: list[tuple[Btf, int]] = []
        res: CoreResult | None = None
        targ_spec: Spec | None = None
        for tb, tid in cands:
            try:
                cand = spec_match(local, tb, tid)
            except BtfError as e:
                raise CoreError(f"error matching candidate {tb.type_str(tid)}: {e}") from None
            if cand is None:
                continue
            cres = calc_relo(relo, local, cand)
            if res is None:
                res, targ_spec = cres, cand
                res.target = cand.describe()
            elif cand.bit_offset != targ_spec.bit_offset:  # type: ignore[union-attr]
                raise CoreError(f"field offset ambiguity: {cand.bit_offset} != {targ_spec.bit_offset}")  # type: ignore[union-attr]
            elif cres.poison != res.poison or cres.new_val != res.new_val:
                raise CoreError(
                    f"relocation decision ambiguity: {'failure' if cres.poison else 'success'} {cres.new_val} != "
                    f"{'failure' if res.poison else 'success'} {res.new_val}")
            kept.append((tb, tid))
        if kept:
            self._cands[relo.type_id] = kept
        if res is None:
            res = calc_relo(relo, local, None)
        return res

    def local_spec(self, relo: CoreRelo) -> str:
        try:
            return parse_spec(self.local, relo).describe()
        except (CoreError, BtfError) as e:
            return f"<unparsable: {e}>"


def patch_insn(insns: list[Insn], idx: int, res: CoreResult) -> str:
    """Apply ``res`` to ``insns[idx]`` (and ``idx + 1`` for ld_imm64) in place, as libbpf does.

    Returns what was done (``"patched ..."`` or ``"poisoned ..."``). Raises CoreError.
    """
    ins = insns[idx]
    cls = ins.code & 0x07
    is_ld64 = ins.code == (op.BPF_LD | op.BPF_IMM | op.BPF_DW)
    if res.poison:
        _poison_at(insns, idx, is_ld64)
        return f"poisoned insn #{idx}: no target"
    orig, new = res.orig_val & _U64, res.new_val & _U64
    if cls in (op.BPF_ALU, op.BPF_ALU64):
        if ins.code & op.BPF_X:
            raise CoreError(f"insn #{idx}: ALU relocation on a register operand")
        if res.validate and (ins.imm & _U64) != orig:
            raise CoreError(f"unexpected insn #{idx} (ALU/ALU64) value: got {ins.imm & 0xFFFFFFFF}, "
                            f"exp {orig} -> {new}")
        insns[idx] = ins._replace(imm=_s32(new))
        return f"patched insn #{idx} (ALU/ALU64) imm {ins.imm & 0xFFFFFFFF} -> {new}"
    if cls in (op.BPF_LDX, op.BPF_ST, op.BPF_STX):
        if res.validate and (ins.off & _U64) != orig:
            raise CoreError(f"unexpected insn #{idx} (LDX/ST/STX) value: got {ins.off & 0xFFFF}, "
                            f"exp {orig} -> {new}")
        if new > 0x7FFF:
            raise CoreError(f"insn #{idx} (LDX/ST/STX) value too big: {new}")
        if res.fail_memsz_adjust:
            _poison_at(insns, idx, False)
            return (f"poisoned insn #{idx}: accesses a field whose size changed ({res.orig_sz} -> {res.new_sz}) "
                    "and is neither a pointer nor an unsigned integer")
        code = ins.code
        note = f"patched insn #{idx} (LDX/ST/STX) off {ins.off} -> {new}"
        if res.new_sz != res.orig_sz:
            have = op.SIZE_BYTES.get(code & 0x18)
            if have != res.orig_sz:
                raise CoreError(f"insn #{idx} (LDX/ST/STX) unexpected mem size: got {have}, exp {res.orig_sz}")
            if res.new_sz not in op.BYTES_SIZE:
                raise CoreError(f"insn #{idx} (LDX/ST/STX) invalid new mem size: {res.new_sz}")
            code = (code & 0xE0) | op.BYTES_SIZE[res.new_sz] | cls
            note += f", mem_sz {res.orig_sz} -> {res.new_sz}"
        insns[idx] = ins._replace(code=code, off=new)
        return note
    if cls == op.BPF_LD:
        nxt = insns[idx + 1] if idx + 1 < len(insns) else None
        if (not is_ld64 or nxt is None or ins.src != 0 or ins.off != 0 or nxt.code != 0 or nxt.dst != 0
                or nxt.src != 0 or nxt.off != 0):
            raise CoreError(f"insn #{idx} (LDIMM64) has unexpected form")
        imm = (ins.imm & 0xFFFFFFFF) | ((nxt.imm & 0xFFFFFFFF) << 32)
        if res.validate and imm != orig:
            raise CoreError(f"unexpected insn #{idx} (LDIMM64) value: got {imm}, exp {orig} -> {new}")
        insns[idx] = ins._replace(imm=_s32(new & 0xFFFFFFFF))
        insns[idx + 1] = nxt._replace(imm=_s32(new >> 32))
        return f"patched insn #{idx} (LDIMM64) imm64 {imm} -> {new}"
    raise CoreError(f"trying to relocate unrecognized insn #{idx}, code {ins.code:#x}")


def _poison_at(insns: list[Insn], idx: int, is_ld64: bool) -> None:
    # the second slot of an ld_imm64 is poisoned too, so the verifier does not see a stray opcode 0
    if is_ld64 and idx + 1 < len(insns):
        insns[idx + 1] = _POISONED
    insns[idx] = _POISONED


_U64 = 0xFFFFFFFFFFFFFFFF
_POISONED = Insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, POISON_IMM)


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v
