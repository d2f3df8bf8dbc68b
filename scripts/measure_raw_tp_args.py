"""Measure which pointer arguments of BTF tracepoints (tp_btf) the running kernel treats as maybe-NULL or as a
possible error value (then a scalar).

The kernel keeps a table of such tracepoint arguments; pyverifier learns it from the kernel itself: for
every ``btf_trace_<name>`` typedef of the kernel's BTF and every argument that points to a struct, load
the tp_btf program ``r2 = *(u64 *)(r1 +OFF); r0 = 0; exit`` at log level 2 and read the type the log
gives R2. Writes pyverifier/raw_tp_args.py (data only). Needs root and bpf().

    .venv/bin/python scripts/measure_raw_tp_args.py
"""
from __future__ import annotations

import os
import re
import sys

from ctx_probe import load_ctx_read
from pyverifier.btf import PTR, STRUCT, TYPEDEF
from selftests.btf import kernel_btf

_R2 = re.compile(r" R2=(\S+)")


def tracepoint_args(btf):
    """(tracepoint name, [(arg index, ctx offset)] of its pointer-to-struct arguments), in BTF order."""
    for t in btf.types:
        if t.kind != TYPEDEF or not t.name.startswith("btf_trace_"):
            continue
        ptr = btf.type(t.size_type)
        if ptr.kind != PTR:
            continue
        proto = btf.type(ptr.size_type)
        out = []
        off = 0
        for i, (_, atid) in enumerate(proto.members[1:]):
            _, at = btf.skip_mods_and_typedefs(atid)
            size = 8 if at.kind == PTR else (at.size_type + 7) // 8 * 8
            if at.kind == PTR and btf.skip_mods_and_typedefs(at.size_type)[1].kind == STRUCT:
                out.append((i, off))
            off += size
        if out:
            yield t.name[len("btf_trace_"):], out


def main() -> int:
    btf = kernel_btf()
    found: dict[str, dict[int, str]] = {}
    n = 0
    for tp, args in tracepoint_args(btf):
        for i, off in args:
            r = load_ctx_read(tp, "trace_raw_tp", i, off)
            n += 1
            if r.verdict != "accept":
                print(f"{tp} arg{i}: {r.verdict} {r.message}", file=sys.stderr)
                continue
            m = _R2.search(r.log)
            if m is None:
                print(f"{tp} arg{i}: no R2 in the log", file=sys.stderr)
                continue
            kind = m.group(1)
            if kind.startswith("scalar"):
                found.setdefault(tp, {})[i] = "err"
            elif "or_null_" in kind:
                found.setdefault(tp, {})[i] = "null"
    out = os.path.join(os.path.dirname(__file__), "..", "pyverifier", "raw_tp_args.py")
    with open(out, "w") as f:
        f.write('"""BTF tracepoint arguments the running kernel treats specially (measured by\n'
                'scripts/measure_raw_tp_args.py on Linux ' + os.uname().release + '; data only).\n\n'
                '``SPECIAL[tracepoint][arg]`` is "null" (the pointer may be NULL) or "err" (it may hold an\n'
                'error value, so the program reads it as a scalar). Arguments count from 0 after the\n'
                "tracepoint's hidden first ``void *`` argument.\n\"\"\"\n\n")
        f.write("SPECIAL: dict[str, dict[int, str]] = {\n")
        for tp in sorted(found):
            f.write(f"    {tp!r}: {found[tp]!r},\n")
        f.write("}\n")
    print(f"{n} arguments of {sum(1 for _ in tracepoint_args(btf))} tracepoints loaded; {len(found)} "
          f"tracepoints with special arguments; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
