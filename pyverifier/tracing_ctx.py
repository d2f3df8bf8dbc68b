"""The context of tracing programs that take their arguments from the kernel's BTF: BTF tracepoints
(``tp_btf``, BPF_TRACE_RAW_TP) and BPF iterators (``iter/<target>``, BPF_TRACE_ITER).

The context is the tracepoint's arguments, one u64 slot each (a struct passed by
value takes its size rounded up to 8), described by the kernel's BTF: the typedef
``btf_trace_<name>`` points to the prototype, whose first ``void *`` argument is
hidden. A read of an argument gives a scalar (integers, enums, structs by value,
``void *`` and pointers to integers) or a trusted pointer to the argument's struct
(maybe NULL where the parameter is named ``..__nullable`` or the kernel lists the
argument as possibly NULL; a scalar where it may hold an error value: the list is
``raw_tp_args``, measured on the live kernel). The rules and messages follow the
kernel's btf_ctx_access.

An iterator's arguments are those of the kernel function ``bpf_iter_<target>`` (none
hidden): the first, ``struct bpf_iter_meta *``, is read through the BTF like a
tracepoint's; the others the target registers with a type of their own (often maybe
NULL), measured on the live kernel (``iter_args``).
"""
from __future__ import annotations

from . import regs as R
from .btf import ENUM, ENUM64, FUNC, FUNC_PROTO, INT, KIND_NAMES, PTR, STRUCT, TYPE_TAG, TYPEDEF, UNION, Btf, BtfError
from .raw_tp_args import SPECIAL

MAX_BPF_FUNC_ARGS = 12
_MODIFIERS = frozenset((TYPEDEF, 9, 10, 11, TYPE_TAG))  # typedef, volatile, const, restrict, type tag


class TracepointProto:
    """The prototype of a tracing program's target in the kernel's BTF: a tracepoint (its hidden first
    argument dropped) or an iterator's ``bpf_iter_<target>`` function."""

    __slots__ = ("name", "args", "all_args", "ret", "special", "ctx_args")

    def __init__(self, name: str, all_args: tuple, ret: int, special: dict, hidden_first: bool = True,
                 ctx_args: dict | None = None):
        self.name = name  # as the kernel's messages name it
        self.all_args = all_args  # ((param name, type id), ...), a hidden first one included
        self.args = all_args[1:] if hidden_first else all_args
        self.ret = ret
        self.special = special  # tracepoints: argument -> "null" / "err"
        self.ctx_args = ctx_args or {}  # iterators: argument -> (register type bits, struct name)


_PROTOS: dict[tuple[int, str], TracepointProto | None] = {}


def tracepoint(btf: Btf, name: str) -> TracepointProto | None:
    """The prototype of tracepoint ``name``, None when the kernel has no such BTF tracepoint."""
    key = (id(btf), name)
    if key in _PROTOS:
        return _PROTOS[key]
    proto = None
    for tid in btf.find("btf_trace_" + name, TYPEDEF)[:1]:
        ptr = btf.type(btf.type(tid).size_type)
        if ptr.kind == PTR:
            fp = btf.type(ptr.size_type)
            if fp.kind == FUNC_PROTO and fp.members:
                proto = TracepointProto(name, tuple(fp.members), fp.size_type, SPECIAL.get(name, {}))
    _PROTOS[key] = proto
    return proto


def _kind_str(kind: int) -> str:
    """The kernel's name of a BTF kind in messages (btf_type_str)."""
    return "UNKNOWN" if kind == 0 else KIND_NAMES[kind].upper()


def _skip_mods(btf: Btf, tid: int):
    t = btf.type(tid)
    while t.kind in _MODIFIERS:
        tid = t.size_type
        t = btf.type(tid)
    return tid, t


def _slot_size(btf: Btf, tid: int) -> int:
    _, t = _skip_mods(btf, tid)
    return 8 if t.kind == PTR else (t.size_type + 7) // 8 * 8


def _arg_index(btf: Btf, tp: TracepointProto, off: int) -> int:
    """get_ctx_arg_idx: the argument the byte at ``off`` belongs to. Like the kernel, the slots are counted
    over the whole prototype, hidden argument included, and the index then used for the visible ones."""
    end = 0
    for i, (_, tid) in enumerate(tp.all_args):
        end += _slot_size(btf, tid)
        if off < end:
            return i
    end += _slot_size(btf, tp.ret)
    return len(tp.all_args) if off < end else len(tp.all_args) + 1


def ctx_access(v, btf: Btf, tp: TracepointProto, off: int, size: int, write: bool):
    """None: refused (after the kernel's log line, if any); R.SCALAR; or (register type, BTF id)."""
    if off < 0 or off >= 8 * MAX_BPF_FUNC_ARGS or write or off % size:
        return None
    name = tp.name
    if off % 8:
        v.log.write(f"func '{name}' offset {off} is not multiple of 8\n")
        return None
    arg = _arg_index(btf, tp, off)
    if arg >= len(tp.args):  # past the arguments: tp_btf programs have no return value to read
        v.log.write(f"func '{name}' doesn't have {arg + 1}-th argument\n")
        return None
    pname, ptid = tp.args[arg]
    _, t = _skip_mods(btf, ptid)
    if (t.kind == INT and t.size_type <= 8) or t.kind in (ENUM, ENUM64) or t.kind == STRUCT:
        return R.SCALAR
    if t.kind != PTR:
        v.log.write(f"func '{name}' arg{arg} '{t.name}' has type {_kind_str(t.kind)}. "
                    f"Only pointer access is allowed\n")
        return None
    if size != 8:
        v.log.write(f"func '{name}' size {size} must be 8\n")
        return None
    if t.size_type == 0:  # void *
        return R.SCALAR
    if _skip_mods(btf, t.size_type)[1].kind == INT:
        return R.SCALAR
    registered = tp.ctx_args.get(arg)
    if registered is not None:  # an iterator target's own type for this argument
        return registered
    rtype = R.PTR_TO_BTF_ID | R.PTR_TRUSTED
    if pname.endswith("__nullable"):
        rtype |= R.PTR_MAYBE_NULL
    special = tp.special.get(arg)
    if special == "null":
        rtype |= R.PTR_MAYBE_NULL
    target = btf.type(t.size_type)
    if target.kind == TYPE_TAG:
        if target.name == "user":
            rtype |= R.MEM_USER
        elif target.name == "percpu":
            rtype |= R.MEM_PERCPU
    tid, target = _skip_mods(btf, t.size_type)
    if target.kind not in (STRUCT, UNION):  # btf_type_is_struct
        v.log.write(f"func '{name}' arg{arg} type {_kind_str(target.kind)} is not a struct\n")
        return None
    v.log.write(f"func '{name}' arg{arg} has btf_id {tid} type {_kind_str(target.kind)} "
                f"'{target.name}'\n")
    if special == "err":  # the kernel reads it as a scalar (not seen on the measured kernel: log unconfirmed)
        from .verifier import NotModelled

        raise NotModelled("a tracepoint argument that may hold an error value")
    return rtype, tid


_TYPE_PREFIXES = (("rdonly_", R.MEM_RDONLY), ("ringbuf_", R.MEM_RINGBUF), ("user_", R.MEM_USER),
                  ("percpu_", R.MEM_PERCPU), ("rcu_", R.MEM_RCU), ("untrusted_", R.PTR_UNTRUSTED),
                  ("trusted_", R.PTR_TRUSTED))


def reg_type(printed: str) -> int:
    """Register type bits of a BTF pointer type as the log prints it (``trusted_ptr_or_null_``)."""
    flags = 0
    for prefix, flag in _TYPE_PREFIXES:
        if printed.startswith(prefix):
            printed = printed[len(prefix):]
            flags |= flag
    if printed != "ptr_" and printed != "ptr_or_null_":
        raise ValueError(f"not a BTF pointer type: {printed!r}")
    return R.PTR_TO_BTF_ID | flags | (R.PTR_MAYBE_NULL if printed == "ptr_or_null_" else 0)


def iterator(btf: Btf, target: str) -> TracepointProto | None:
    """The context of iterator ``target``, None when pyverifier does not know the target."""
    from .iter_args import ARGS

    if target not in ARGS:
        return None
    key = (id(btf), "iter/" + target)
    if key not in _PROTOS:
        proto = None
        for tid in btf.find("bpf_iter_" + target, FUNC)[:1]:
            fp = btf.type(btf.type(tid).size_type)
            if fp.kind == FUNC_PROTO:
                ctx_args = {i: (reg_type(printed), name) for i, (printed, name) in ARGS[target].items()}
                proto = TracepointProto("bpf_iter_" + target, tuple(fp.members), fp.size_type, {},
                                        hidden_first=False, ctx_args=ctx_args)
        _PROTOS[key] = proto
    return _PROTOS[key]


def prepare_iterator(v) -> TracepointProto:
    """The target a BPF iterator program attaches to, or NotModelled."""
    from .btf_access import kernel_btf
    from .verifier import NotModelled

    target = v.prog.attach_to or ""
    it = iterator(kernel_btf(v), target)
    if it is None:
        raise NotModelled(f"BPF iterator target {target!r} (its context was not measured on the kernel)")
    return it


def prepare(v) -> TracepointProto:
    """The tracepoint a tp_btf program attaches to, or NotModelled."""
    from .btf_access import kernel_btf
    from .verifier import NotModelled

    btf = kernel_btf(v)
    name = v.prog.attach_to or ""
    try:
        tp = tracepoint(btf, name)
    except BtfError as e:
        raise NotModelled(f"tracepoint {name!r}: {e}") from None
    if tp is None:
        raise NotModelled(f"tp_btf program attached to {name!r}, which is not a BTF tracepoint of the kernel")
    return tp
