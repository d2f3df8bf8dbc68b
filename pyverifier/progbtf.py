"""Program BTF: func_info checked against the subprograms, and the argument checks it drives.

With ``Program.func_info`` the kernel knows each subprogram's BTF FUNC: a callback
(``ld_imm64`` of a function) needs it, and every call of a static subprogram or a
callback first matches the caller's registers against the function's prototype
(``btf_check_subprog_call``). For a static function a prototype the kernel cannot
express (a pointer that is not the context, more than five arguments, a non-integer
return) marks the function "unreliable" silently; a supported one logs the first
mismatch (``R2 is not a scalar``, ``arg#0 expects pointer to ctx``) and marks it
unreliable too. Neither stops the call. A global function is verified on its own
after the main program, with arguments from its prototype (scalars, the context, and
pointers to memory of the pointee's size, maybe NULL unless tagged ``arg:nonnull``),
and a call of it only checks the arguments (memory readable and writable for that
size). The ``arg:ctx``, ``arg:nonnull`` and ``arg:nullable`` decl tags are read as the
kernel reads them (a static function may not have any); ``arg:trusted`` and
``arg:arena`` are not modelled. line_info gives the source lines of the log.
"""
from __future__ import annotations

from functools import lru_cache

from . import regs as R
from . import uapi
from .btf import DECL_TAG, ENUM, ENUM64, FUNC, FUNC_GLOBAL, FUNC_PROTO, INT, PTR, STRUCT, TYPEDEF, UNION, Btf, BtfError
from .cfg import CfgError, NotModelled

EINVAL = 22
EOPNOTSUPP = 95
# prototype problems the kernel reports with EOPNOTSUPP (the others: EINVAL)
_EOPNOTSUPP_PROBLEMS = ("has unsupported set of tags", "type tag is not supported in static functions")

MAX_BPF_FUNC_REG_ARGS = 5
ARG_SCALAR = "scalar"
ARG_CTX = "ctx"
ARG_MEM = "mem"  # the main program's pointer argument that is not its context: never matched


class ArgMem:
    """A global function's pointer to memory of ``size`` bytes (maybe NULL unless tagged ``arg:nonnull``)."""

    __slots__ = ("size", "nullable")

    def __init__(self, size: int, nullable: bool):
        self.size = size
        self.nullable = nullable


class ArgTrusted:
    """A global function's ``arg:trusted`` pointer to the kernel struct ``tid`` (maybe NULL with ``arg:nullable``)."""

    __slots__ = ("tid", "nullable")

    def __init__(self, tid: int, nullable: bool):
        self.tid = tid
        self.nullable = nullable


_KNOWN_ARG_TAGS = ("ctx", "trusted", "nonnull", "nullable", "arena")

# the context struct a program type's functions may take (the kernel's prog_ctx_type), and the
# kernel struct it is a projection of
_T = uapi.PROG_TYPES
_SKB = ("__sk_buff", "sk_buff")
_CTX_NAMES: dict[int, tuple[str, ...]] = {
    _T["socket_filter"]: _SKB, _T["sched_cls"]: _SKB, _T["sched_act"]: _SKB, _T["cgroup_skb"]: _SKB,
    _T["lwt_in"]: _SKB, _T["lwt_out"]: _SKB, _T["lwt_xmit"]: _SKB, _T["lwt_seg6local"]: _SKB,
    _T["sk_skb"]: _SKB,
    _T["xdp"]: ("xdp_md", "xdp_buff"),
    _T["sock_ops"]: ("bpf_sock_ops", "bpf_sock_ops_kern"),
    _T["cgroup_sock"]: ("bpf_sock", "sock"),
    _T["perf_event"]: ("bpf_perf_event_data", "bpf_perf_event_data_kern"),
    _T["kprobe"]: ("bpf_user_pt_regs_t", "pt_regs"),
    _T["raw_tracepoint"]: ("bpf_raw_tracepoint_args",),
    _T["raw_tracepoint_writable"]: ("bpf_raw_tracepoint_args",),
    _T["flow_dissector"]: ("__sk_buff", "bpf_flow_dissector"),
}


class NotModelledBtf(NotModelled):
    """Program BTF pyverifier cannot judge; the verifier turns it into ``not modelled``."""


class FuncBtf:
    """What the verifier keeps of one subprogram's BTF FUNC."""

    __slots__ = ("name", "linkage", "args", "problem")

    def __init__(self, name: str, linkage: int, args: tuple[str, ...] | None):
        self.name = name
        self.linkage = linkage
        self.args = args  # per argument ARG_SCALAR / ARG_CTX; None: a prototype the kernel cannot use
        self.problem: str | None = None  # what the kernel logs when it gives up on a global prototype


@lru_cache(maxsize=8)
def _parse(blob: bytes) -> Btf:
    return Btf.parse(blob)


def _btf_of(prog) -> Btf:
    """The program's BTF, parsed once for all the checks and readers here."""
    try:
        return _parse(prog.btf)
    except BtfError as e:
        raise NotModelledBtf(f"program BTF the kernel would refuse ({e})") from None


def check_func_info_early(prog) -> None:
    """The kernel's checks of func_info before it looks at the subprograms (records in order,
    FUNC types); raises ``CfgError`` with its message, which the kernel prints without a newline
    and with no subprogram known yet (an empty ``stack depth``)."""
    if prog.btf is None or not prog.func_info:
        return
    btf = _btf_of(prog)
    prev = -1
    for i, (off, tid) in enumerate(prog.func_info):
        if i == 0 and off:
            raise CfgError(f"nonzero insn_off {off} for the first func info record", newline=False)
        if i and off <= prev:
            raise CfgError(f"same or smaller insn offset ({off}) than previous func info record ({prev})", newline=False)
        prev = off
        try:
            t = btf.type(tid)
        except BtfError:
            t = None
        if t is None or t.kind != FUNC:
            raise CfgError(f"invalid type id {tid} in func info", newline=False)


def check_func_info_layout(prog, subprog_starts: list[int], insns=None) -> None:
    """After the subprograms are known: one func_info record per subprogram, at its start; then
    the line_info records (in order, on instructions, naming strings, one at each subprogram start)."""
    if prog.btf is None:
        return
    if prog.func_info:
        if len(prog.func_info) != len(subprog_starts):
            raise CfgError("number of funcs in func_info doesn't match number of subprogs")
        if [off for off, _ in prog.func_info] != list(subprog_starts):
            raise CfgError("func_info BTF section doesn't match subprog layout in BPF program")
    if prog.func_info and insns is not None:
        _check_ld_abs_returns_int(prog, subprog_starts, insns)
    if prog.line_info and insns is not None:
        _check_line_info(prog, subprog_starts, insns)


def _check_ld_abs_returns_int(prog, starts: list[int], insns) -> None:
    """A failed LD_ABS/LD_IND returns 0 from its subprogram: the subprogram must return an int."""
    btf = _btf_of(prog)
    bounds = list(starts) + [len(insns)]
    for k, (_off, tid) in enumerate(prog.func_info):
        if k == 0:
            continue  # the main program's own return type does not matter (its exit value is checked)
        if not any((insns[i].code & 7) == 0 and (insns[i].code & 0xE0) in (0x20, 0x40)
                   for i in range(bounds[k], bounds[k + 1])):
            continue
        try:
            _, ret = btf.skip_mods_and_typedefs(btf.type(btf.type(tid).size_type).size_type)
        except BtfError:
            continue
        if ret.kind != INT:
            raise CfgError("LD_ABS is only allowed in functions that return 'int'.")


def _check_line_info(prog, starts: list[int], insns) -> None:
    btf = _btf_of(prog)
    n = len(insns)
    s = 0
    prev = 0
    for i, (off, file_off, line_off, _lc) in enumerate(prog.line_info):
        if (i and off <= prev) or off >= n:
            raise CfgError(f"Invalid line_info[{i}].insn_off:{off} (prev_offset:{prev} prog->len:{n})")
        if insns[off].code == 0:
            raise CfgError(f"Invalid insn code at line_info[{i}].insn_off")
        for o in (line_off, file_off):
            try:
                btf.str_at(o)
            except BtfError:
                raise CfgError(f"Invalid line_info[{i}].line_off or .file_name_off") from None
        if s < len(starts):
            if off == starts[s]:
                s += 1
            elif starts[s] < off:
                raise CfgError(f"missing bpf_line_info for func#{s}")
        prev = off
    if s != len(starts):
        raise CfgError(f"missing bpf_line_info for {len(starts) - s} funcs starting from func#{s}")


def read_func_info(prog, subprog_starts: list[int]) -> list[FuncBtf] | None:
    """The BTF FUNC of each subprogram (None when the program has no func_info), after the checks."""
    if prog.btf is None or not prog.func_info:
        if prog.line_info:
            raise NotModelledBtf("line_info without func_info")
        return None
    btf = _btf_of(prog)
    out = []
    # check_func_info_early and check_func_info_layout already refused records that are out of
    # place or name no FUNC
    for k, (_off, tid) in enumerate(prog.func_info):
        t = btf.type(tid)
        tags = _arg_tags(btf, tid)
        if t.vlen == FUNC_GLOBAL:
            f = FuncBtf(t.name, t.vlen, None)
            f.args, f.problem = _global_args(btf, t, prog.prog_type, is_main=k == 0, tags=tags,
                                             attach_type=prog.expected_attach_type or 0)
            out.append(f)
            continue
        f = FuncBtf(t.name, t.vlen, None)
        f.args, f.problem = _static_args(btf, t, prog.prog_type, tags)
        out.append(f)
    return out


_KIND_STR = ("UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST",
             "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64")


def _arg_tags(btf: Btf, func_id: int) -> dict[int, tuple[str, ...]]:
    """The ``arg:<tag>`` decl tags on each argument of FUNC ``func_id``, in BTF order, ``arg:`` cut off."""
    out: dict[int, list[str]] = {}
    for t in btf.types[1:]:
        if t.kind == DECL_TAG and t.size_type == func_id and t.name.startswith("arg:") and t.extra >= 0:
            out.setdefault(t.extra, []).append(t.name[4:])
    return {i: tuple(v) for i, v in out.items()}


def _kernel_struct(btf: Btf, ptr) -> int:
    """The kernel's BTF id of the struct an ``arg:trusted`` pointer points to (by name, as the kernel finds it)."""
    from . import kbtf

    _, target = btf.skip_mods_and_typedefs(ptr.size_type) if ptr.size_type else (0, None)
    kb = kbtf.get()
    ids = kb.find(target.name, STRUCT) if kb is not None and target is not None and target.kind == STRUCT else []
    if not ids:
        raise NotModelledBtf("arg:trusted on a pointer to a type other than a kernel struct")
    return ids[0]


def _tagged_ctx_ok(btf: Btf, ptr, prog_type: int, attach_type: int) -> bool:
    """btf_validate_prog_ctx_type's accepted spellings of an ``arg:ctx`` pointer besides the context struct:
    ``void *``, the kprobe/perf_event register typedef or struct, ``u64 *`` for raw tracepoints, anything
    for tracepoints, an iterator's ``struct bpf_iter__<target>``."""
    t = btf.type(ptr.size_type)
    if prog_type in (_T["kprobe"], _T["perf_event"]):
        while t.kind in _MODS_NO_TYPEDEF:
            t = btf.type(t.size_type)
        if t.kind == TYPEDEF and t.name == "bpf_user_pt_regs_t":
            return True
    while t.kind in _MODS_NO_TYPEDEF or t.kind == TYPEDEF:
        t = btf.type(t.size_type)
    if t.kind == 0:  # void *
        return True
    u64 = t.kind == INT and t.size_type == 8
    if prog_type in (_T["kprobe"], _T["perf_event"]):
        return t.kind == STRUCT and t.name == "pt_regs"
    if prog_type in (_T["raw_tracepoint"], _T["raw_tracepoint_writable"]):
        return u64
    if prog_type in (_T["tracepoint"], _T["syscall"]):
        return True  # anything goes
    if prog_type == _T["tracing"] and attach_type == uapi.ATTACH_TYPES["trace_raw_tp"]:
        return u64 or (t.kind == STRUCT and t.name == "bpf_raw_tracepoint_args")
    if prog_type == _T["tracing"] and attach_type == uapi.ATTACH_TYPES["trace_iter"]:
        return t.kind == STRUCT and t.name.startswith("bpf_iter__")
    return False


_MODS_NO_TYPEDEF = frozenset((9, 10, 11, 18))  # volatile, const, restrict, type tag


def _global_args(btf: Btf, func, prog_type: int, is_main: bool = False, tags=None, attach_type: int = 0):
    """btf_prepare_func_args for a global function (here: the main program's own FUNC).

    Returns (argument kinds or None, the line the kernel logs when it gives up or None).
    """
    proto = btf.type(func.size_type)
    if proto.kind != FUNC_PROTO:
        raise NotModelledBtf("a FUNC whose type is not a FUNC_PROTO")
    if len(proto.members) > MAX_BPF_FUNC_REG_ARGS:
        return None, (f"Global function {func.name}() with {len(proto.members)} > {MAX_BPF_FUNC_REG_ARGS} "
                      "args. Buggy compiler.")
    _, ret = btf.skip_mods_and_typedefs(proto.size_type)
    if ret.kind not in (INT, ENUM, ENUM64):
        return None, f"Global function {func.name}() doesn't return scalar. Only those are supported."
    args = []
    for i, (_name, ptid) in enumerate(proto.members):
        arg_tags = (tags or {}).get(i, ())
        for tag in arg_tags:
            if tag not in _KNOWN_ARG_TAGS:
                return None, f"arg#{i} has unsupported set of tags"
        if "arena" in arg_tags:
            raise NotModelledBtf("the BTF decl tag arg:arena on a function argument")
        _, t = btf.skip_mods_and_typedefs(ptid)
        if t.kind != PTR and arg_tags:
            return None, f"arg#{i} has pointer tag, but is not a pointer type"
        is_ctx = t.kind == PTR and _is_ctx(btf, t, prog_type)
        if t.kind == PTR and ("ctx" in arg_tags or is_ctx):
            if set(arg_tags) - {"ctx"}:
                return None, f"arg#{i} has invalid combination of tags"
            if not is_ctx and not _tagged_ctx_ok(btf, t, prog_type, attach_type):
                raise NotModelledBtf("arg:ctx on a pointer to a type other than the program type's context")
            args.append(ARG_CTX)
        elif t.kind == PTR and "trusted" in arg_tags:
            if "nonnull" in arg_tags:
                return None, f"arg#{i} has invalid combination of tags"
            args.append(ArgTrusted(_kernel_struct(btf, t), "nullable" in arg_tags))
        elif t.kind == PTR:
            if "nullable" in arg_tags:
                return None, f"arg#{i} has invalid combination of tags"
            # a pointer to memory of the pointee's size: the size must be known
            size = None
            if t.size_type:
                try:
                    size = btf.resolve_size(t.size_type)
                except BtfError:
                    size = None
            if size is None:
                pt = btf.skip_mods(t.size_type)[1] if t.size_type else None
                if pt is not None and pt.kind == 0:
                    pt = None
                kind = _KIND_STR[pt.kind] if pt is not None and pt.kind < len(_KIND_STR) else "UNKNOWN"
                return None, f"arg#{i} reference type('{kind} {pt.name if pt is not None else ''}') " \
                             "size cannot be determined: -22"
            args.append(ARG_MEM if is_main else ArgMem(size, "nonnull" not in arg_tags))
        elif t.kind in (INT, ENUM, ENUM64):
            args.append(ARG_SCALAR)
        else:
            raise NotModelledBtf(f"a global function argument of BTF kind {t.kind}")
    return tuple(args), None


def check_main(v) -> None:
    """At the start of the main program: its BTF prototype is read (a problem is logged, the
    prototype then no longer counts); the main program's registers are not matched against it."""
    funcs = v.func_btf
    if not funcs:
        return
    main = funcs[0]
    if main.problem:
        v.log.write(main.problem + "\n")
        v.btf_unreliable.add(0)


def _static_args(btf: Btf, func, prog_type: int, tags=None):
    """btf_prepare_func_args for a static function: (argument kinds, None), or (None, the line the kernel
    logs) where it gives up: silently (None) on a prototype it cannot express, with a line on a decl tag."""
    try:
        proto = btf.type(func.size_type)
        if proto.kind != FUNC_PROTO or len(proto.members) > MAX_BPF_FUNC_REG_ARGS:
            return None, None
        _, ret = btf.skip_mods_and_typedefs(proto.size_type)
        if ret.kind not in (INT, ENUM, ENUM64):
            return None, None
        args = []
        for i, (_name, ptid) in enumerate(proto.members):
            if tags and tags.get(i):
                return None, f"arg#{i} type tag is not supported in static functions"
            _, t = btf.skip_mods_and_typedefs(ptid)
            if t.kind == PTR and _is_ctx(btf, t, prog_type):
                args.append(ARG_CTX)
            elif t.kind in (INT, ENUM, ENUM64):
                args.append(ARG_SCALAR)
            else:
                return None, None
        return tuple(args), None
    except BtfError:
        return None, None


def _is_ctx(btf: Btf, ptr, prog_type: int) -> bool:
    names = _CTX_NAMES.get(prog_type)
    if not names:
        return False
    t = btf.type(ptr.size_type)
    for _ in range(32):  # typedefs first (kprobe's bpf_user_pt_regs_t), then what they name
        if t.name in names and t.kind in (TYPEDEF, STRUCT, UNION):
            return True
        if t.kind in (STRUCT, UNION) or not t.size_type:
            return False
        t = btf.type(t.size_type)
    return False


def check_subprog_call(v, subprog: int, regs) -> int:
    """btf_check_subprog_call: log the first argument that does not match the prototype.

    Returns 0, or on a mismatch the error (fatal for a global function, only logged for a static one).
    """
    funcs = v.func_btf
    if funcs is None or subprog in v.btf_unreliable:
        return 0
    f = funcs[subprog]
    args = f.args
    if args is None:
        if f.problem:
            v.log.write(f.problem + "\n")
        v.btf_unreliable.add(subprog)
        return EOPNOTSUPP if f.problem and f.problem.endswith(_EOPNOTSUPP_PROBLEMS) else EINVAL
    from .verifier import Reject

    for i, kind in enumerate(args):
        regno = i + 1
        reg = regs[regno]
        if kind == ARG_SCALAR:
            if reg.type != R.SCALAR:
                v.log.write(f"R{regno} is not a scalar\n")
                v.btf_unreliable.add(subprog)
                return EINVAL
        elif isinstance(kind, ArgMem):
            try:
                _check_mem_arg(v, regno, reg, kind, i)
            except Reject:
                v.btf_unreliable.add(subprog)
                return EINVAL
        elif isinstance(kind, ArgTrusted):
            try:
                _check_trusted_arg(v, regno, reg, kind)
            except Reject as e:
                v.btf_unreliable.add(subprog)
                return e.errno
        elif reg.type != R.PTR_TO_CTX:
            v.log.write(f"arg#{i} expects pointer to ctx\n")
            v.btf_unreliable.add(subprog)
            return EINVAL
        elif reg.off or reg.s.var_off.mask or reg.s.var_off.value:
            raise NotModelledBtf("a modified context pointer passed to a function with BTF")
    return 0


def _check_trusted_arg(v, regno: int, reg, arg: ArgTrusted) -> None:
    """A pointer passed for an ``arg:trusted`` argument: a pointer to that kernel struct (check_reg_type,
    then only its fixed offset may be non-zero). Refusals raise ``Reject``."""
    from . import calls
    from . import helpers as H

    if arg.nullable and reg.type == R.SCALAR and not reg.s.var_off.mask and reg.s.var_off.value == 0:
        return
    at = H.ARG_PTR_TO_BTF_ID | (H.PTR_MAYBE_NULL if arg.nullable else 0)
    calls._check_reg_type(v, regno, reg, at, calls.Meta(0, False), need_id=arg.tid)
    calls._check_ptr_off(v, reg, regno, True)


def _check_mem_arg(v, regno: int, reg, arg: ArgMem, i: int) -> None:
    """A pointer to memory passed to a global function: readable and writable for the argument's
    size (check_mem_reg), NULL only where the prototype allows it. Refusals raise ``Reject``."""
    from . import calls
    from . import helpers as H

    if reg.type == R.PTR_TO_CTX:  # 6.18 checks it field by field (its log was not matched yet)
        raise NotModelledBtf("the context passed as a global function's pointer-to-memory argument")
    calls._check_reg_off(v, reg, regno, H.ARG_DONTCARE)
    if not (reg.type == R.SCALAR and not reg.s.var_off.mask and reg.s.var_off.value == 0):
        regs = v.state.cur.regs
        saved = regs[regno]
        if reg.type & R.PTR_MAYBE_NULL:  # checked as if it were not NULL
            regs[regno] = reg.replace(type=reg.type & ~R.PTR_MAYBE_NULL)
        try:
            calls.check_helper_mem_access(v, regno, arg.size, False, True, None)
            calls.check_helper_mem_access(v, regno, arg.size, True, True, None)
        finally:
            regs[regno] = saved
    if not arg.nullable and reg.type & R.PTR_MAYBE_NULL:
        v.err(f"arg#{i} is expected to be non-NULL", EINVAL)


def is_global(v, subprog: int) -> bool:
    funcs = v.func_btf
    return funcs is not None and funcs[subprog].linkage == FUNC_GLOBAL


class LineInfo:
    """The program's line_info as the log prints it: ``; <source line> @ <file>:<line>``."""

    __slots__ = ("offs", "texts", "where", "prev")

    def __init__(self, offs: list[int], texts: list[str], where: list[tuple[int, int]]):
        self.offs = offs  # first instruction of each record, ascending
        self.texts = texts  # the line each record prints
        self.where = where  # (file name offset, line number) of each record
        self.prev = -1  # the record printed last (the kernel's prev_linfo)

    def line_for(self, idx: int) -> str | None:
        """The line to print before instruction ``idx``, or None: no record, the record printed
        last, or another record of the same file and line (only its column differs)."""
        from bisect import bisect_right

        k = bisect_right(self.offs, idx) - 1
        if k < 0 or k == self.prev:
            return None
        if self.prev >= 0 and self.where[k] == self.where[self.prev]:
            return None
        self.prev = k
        return self.texts[k]


def read_line_info(prog) -> LineInfo | None:
    if prog.btf is None or not prog.line_info:
        return None
    btf = _btf_of(prog)
    offs, texts, where = [], [], []
    for insn_off, file_off, line_off, line_col in prog.line_info:
        try:
            fname = btf.str_at(file_off)
            line = btf.str_at(line_off)
        except BtfError:
            raise NotModelledBtf("line_info naming strings outside the program BTF") from None
        offs.append(insn_off)
        texts.append(f"{line.lstrip()} @ {fname.rsplit('/', 1)[-1]}:{line_col >> 10}\n")
        where.append((file_off, line_col >> 10))
    return LineInfo(offs, texts, where)
