"""Program BTF: func_info checked against the subprograms, and the argument checks it drives.

With ``Program.func_info`` the kernel knows each subprogram's BTF FUNC: a callback
(``ld_imm64`` of a function) needs it, and every call of a static subprogram or a
callback first matches the caller's registers against the function's prototype
(``btf_check_subprog_call``). For a static function a prototype the kernel cannot
express (a pointer that is not the context, more than five arguments, a non-integer
return) marks the function "unreliable" silently; a supported one logs the first
mismatch (``R2 is not a scalar``, ``arg#0 expects pointer to ctx``) and marks it
unreliable too. Neither stops the call. A global function is verified on its own
after the main program, with arguments from its prototype (scalars and the context;
pointers to memory are not modelled), and a call of it only checks the arguments.
line_info (source lines in the log) is not modelled.
"""
from __future__ import annotations

from functools import lru_cache

from . import regs as R
from . import uapi
from .btf import DECL_TAG, ENUM, ENUM64, FUNC, FUNC_GLOBAL, FUNC_PROTO, INT, PTR, STRUCT, TYPEDEF, UNION, Btf, BtfError
from .cfg import NotModelled

MAX_BPF_FUNC_REG_ARGS = 5
ARG_SCALAR = "scalar"
ARG_CTX = "ctx"
ARG_MEM = "mem"  # the main program's pointer argument that is not its context: never matched

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
    from .cfg import CfgError

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
    from .cfg import CfgError

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
    from .cfg import CfgError

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
    from .cfg import CfgError

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
        if t.vlen == FUNC_GLOBAL:
            f = FuncBtf(t.name, t.vlen, None)
            f.args, f.problem = _global_args(btf, t, prog.prog_type, is_main=k == 0)
            out.append(f)
            continue
        out.append(FuncBtf(t.name, t.vlen, _static_args(btf, t, prog.prog_type)))
    return out


_KIND_STR = ("UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST",
             "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64")


def _global_args(btf: Btf, func, prog_type: int, is_main: bool = False):
    """btf_prepare_func_args for a global function (here: the main program's own FUNC).

    Returns (argument kinds or None, the line the kernel logs when it gives up or None).
    """
    proto = btf.type(func.size_type)
    if proto.kind != FUNC_PROTO:
        raise NotModelledBtf("a FUNC whose type is not a FUNC_PROTO")
    if any(t.kind == DECL_TAG for t in btf.types[1:]):
        raise NotModelledBtf("BTF decl tags on function arguments (arg:ctx, arg:nonnull, ...)")
    if len(proto.members) > MAX_BPF_FUNC_REG_ARGS:
        return None, (f"Global function {func.name}() with {len(proto.members)} > {MAX_BPF_FUNC_REG_ARGS} "
                      "args. Buggy compiler.")
    _, ret = btf.skip_mods_and_typedefs(proto.size_type)
    if ret.kind not in (INT, ENUM, ENUM64):
        return None, f"Global function {func.name}() doesn't return scalar. Only those are supported."
    args = []
    for i, (_name, ptid) in enumerate(proto.members):
        _, t = btf.skip_mods_and_typedefs(ptid)
        if t.kind == PTR and _is_ctx(btf, t, prog_type):
            args.append(ARG_CTX)
        elif t.kind == PTR:
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
            if not is_main:
                raise NotModelledBtf("a global function's pointer-to-memory argument")
            args.append(ARG_MEM)
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


def _static_args(btf: Btf, func, prog_type: int) -> tuple[str, ...] | None:
    """btf_prepare_func_args for a static function: None where the kernel gives up silently."""
    try:
        proto = btf.type(func.size_type)
        if proto.kind != FUNC_PROTO or len(proto.members) > MAX_BPF_FUNC_REG_ARGS:
            return None
        _, ret = btf.skip_mods_and_typedefs(proto.size_type)
        if ret.kind not in (INT, ENUM, ENUM64):
            return None
        args = []
        for _name, ptid in proto.members:
            _, t = btf.skip_mods_and_typedefs(ptid)
            if t.kind == PTR and _is_ctx(btf, t, prog_type):
                args.append(ARG_CTX)
            elif t.kind in (INT, ENUM, ENUM64):
                args.append(ARG_SCALAR)
            else:
                return None
        return tuple(args)
    except BtfError:
        return None


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


def check_subprog_call(v, subprog: int, regs) -> bool:
    """btf_check_subprog_call: log the first argument that does not match the prototype.

    Returns False on a mismatch (fatal for a global function, only logged for a static one).
    """
    funcs = v.func_btf
    if funcs is None or subprog in v.btf_unreliable:
        return True
    f = funcs[subprog]
    args = f.args
    if args is None:
        if f.problem:
            v.log.write(f.problem + "\n")
        v.btf_unreliable.add(subprog)
        return False
    for i, kind in enumerate(args):
        regno = i + 1
        reg = regs[regno]
        if kind == ARG_SCALAR:
            if reg.type != R.SCALAR:
                v.log.write(f"R{regno} is not a scalar\n")
                v.btf_unreliable.add(subprog)
                return False
        elif reg.type != R.PTR_TO_CTX:
            v.log.write(f"arg#{i} expects pointer to ctx\n")
            v.btf_unreliable.add(subprog)
            return False
        elif reg.off or reg.s.var_off.mask or reg.s.var_off.value:
            raise NotModelledBtf("a modified context pointer passed to a function with BTF")
    return True


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
