"""Program BTF: func_info checked against the subprograms, and the argument checks it drives.

With ``Program.func_info`` the kernel knows each subprogram's BTF FUNC: a callback
(``ld_imm64`` of a function) needs it, and every call of a static subprogram or a
callback first matches the caller's registers against the function's prototype
(``btf_check_subprog_call``). For a static function a prototype the kernel cannot
express (a pointer that is not the context, more than five arguments, a non-integer
return) marks the function "unreliable" silently; a supported one logs the first
mismatch (``R2 is not a scalar``, ``arg#0 expects pointer to ctx``) and marks it
unreliable too. Neither stops the call. Global functions (verified on their own
with arguments taken from BTF) and line_info (source lines in the log) are not
modelled.
"""
from __future__ import annotations

from . import regs as R
from . import uapi
from .btf import DECL_TAG, ENUM, ENUM64, FUNC, FUNC_GLOBAL, FUNC_PROTO, INT, PTR, STRUCT, TYPEDEF, UNION, Btf, BtfError
from .cfg import NotModelled

MAX_BPF_FUNC_REG_ARGS = 5
ARG_SCALAR = "scalar"
ARG_CTX = "ctx"

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


def read_func_info(prog, subprog_starts: list[int]) -> list[FuncBtf] | None:
    """The BTF FUNC of each subprogram (None when the program has no func_info)."""
    if prog.btf is None or not prog.func_info:
        if prog.line_info:
            raise NotModelledBtf("line_info without func_info")
        return None
    if prog.line_info:
        raise NotModelledBtf("program BTF line_info (source lines in the log)")
    try:
        btf = Btf.parse(prog.btf)
    except BtfError as e:
        raise NotModelledBtf(f"program BTF the kernel would refuse ({e})") from None
    if [off for off, _ in prog.func_info] != list(subprog_starts):
        raise NotModelledBtf("func_info that does not match the subprograms")
    out = []
    for k, (_off, tid) in enumerate(prog.func_info):
        try:
            t = btf.type(tid)
        except BtfError:
            raise NotModelledBtf(f"func_info with invalid type id {tid}") from None
        if t.kind != FUNC:
            raise NotModelledBtf(f"func_info type id {tid} that is not a FUNC")
        if t.vlen == FUNC_GLOBAL:
            if k:
                raise NotModelledBtf("global functions (verified on their own, arguments from BTF)")
            f = FuncBtf(t.name, t.vlen, None)
            f.args, f.problem = _global_args(btf, t, prog.prog_type)
            out.append(f)
            continue
        out.append(FuncBtf(t.name, t.vlen, _static_args(btf, t, prog.prog_type)))
    return out


def _global_args(btf: Btf, func, prog_type: int):
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
    _, ret = btf.skip_mods(proto.size_type)
    if ret.kind not in (INT, ENUM, ENUM64):
        return None, f"Global function {func.name}() doesn't return scalar. Only those are supported."
    args = []
    for i, (_name, ptid) in enumerate(proto.members):
        _, t = btf.skip_mods(ptid)
        if t.kind == PTR and _is_ctx(btf, t, prog_type):
            args.append(ARG_CTX)
        elif t.kind == PTR:
            try:
                btf.resolve_size(t.size_type) if t.size_type else None
            except BtfError:
                pass
            if t.size_type == 0:  # void *: no size to check accesses against
                return None, f"arg#{i} reference type('UNKNOWN ') size cannot be determined: -22"
            raise NotModelledBtf("a global function's pointer-to-memory argument")
        elif t.kind in (INT, ENUM, ENUM64):
            args.append(ARG_SCALAR)
        else:
            raise NotModelledBtf(f"a global function argument of BTF kind {t.kind}")
    return tuple(args), None


def check_main(v) -> None:
    """At the start of the main program: its registers against its own BTF prototype."""
    funcs = v.func_btf
    if not funcs:
        return
    main = funcs[0]
    if main.problem:
        v.log.write(main.problem + "\n")
        v.btf_unreliable.add(0)
        return
    check_subprog_call(v, 0, v.state.cur.regs)


def _static_args(btf: Btf, func, prog_type: int) -> tuple[str, ...] | None:
    """btf_prepare_func_args for a static function: None where the kernel gives up silently."""
    try:
        proto = btf.type(func.size_type)
        if proto.kind != FUNC_PROTO or len(proto.members) > MAX_BPF_FUNC_REG_ARGS:
            return None
        _, ret = btf.skip_mods(proto.size_type)
        if ret.kind not in (INT, ENUM, ENUM64):
            return None
        args = []
        for _name, ptid in proto.members:
            _, t = btf.skip_mods(ptid)
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


def check_subprog_call(v, subprog: int, regs) -> None:
    """btf_check_subprog_call: log the first argument that does not match the prototype."""
    funcs = v.func_btf
    if funcs is None or subprog in v.btf_unreliable:
        return
    args = funcs[subprog].args
    if args is None:
        v.btf_unreliable.add(subprog)
        return
    for i, kind in enumerate(args):
        regno = i + 1
        reg = regs[regno]
        if kind == ARG_SCALAR:
            if reg.type != R.SCALAR:
                v.log.write(f"R{regno} is not a scalar\n")
                v.btf_unreliable.add(subprog)
                return
        elif reg.type != R.PTR_TO_CTX:
            v.log.write(f"arg#{i} expects pointer to ctx\n")
            v.btf_unreliable.add(subprog)
            return
        elif reg.off or reg.s.var_off.mask or reg.s.var_off.value:
            raise NotModelledBtf("a modified context pointer passed to a function with BTF")
