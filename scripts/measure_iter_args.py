"""Measure the context arguments the running kernel gives BPF iterator programs (``iter/<target>``).

An iterator target registers, for some pointer arguments of its ``bpf_iter_<target>`` function, the
register type the program reads (``trusted_ptr_or_null_task_struct``, ...): the kernel's ctx_arg_info.
pyverifier learns it from the kernel: for every target in the kernel's BTF and every pointer argument,
load the iterator program ``r2 = *(u64 *)(r1 +OFF); r0 = 0; exit`` at log level 2 and read R2's type
from the log; an argument the kernel reads through its BTF (it logs ``func '...' argN has btf_id ...``)
is not in the list. Targets the kernel refuses to load without more (a map to iterate over) are left
out. Writes pyverifier/iter_args.py (data only). Needs root and bpf().

    .venv/bin/python scripts/measure_iter_args.py
"""
from __future__ import annotations

import os
import re
import sys

from ctx_probe import load_ctx_read
from pyverifier.btf import FUNC, PTR
from selftests.btf import kernel_btf

_R2 = re.compile(r" R2=([a-z_0-9]+)\(")
_PREFIX = re.compile(r"^((?:rdonly_|ringbuf_|user_|percpu_|rcu_|untrusted_|trusted_)*ptr_(?:or_null_)?)(\w+)$")


def split_btf_type(text: str) -> tuple[str, str] | None:
    """``trusted_ptr_or_null_task_struct`` -> ("trusted_ptr_or_null_", "task_struct"): the type as the log
    prints it, and the struct (``pyverifier.tracing_ctx`` turns the first back into register type bits)."""
    m = _PREFIX.match(text)
    return (m.group(1), m.group(2)) if m else None


def targets(btf):
    """(target, [(arg index, ctx offset)] of its pointer arguments) for each iterator target."""
    for t in btf.types:
        if t.kind != FUNC or not t.name.startswith("bpf_iter_"):
            continue
        proto = btf.type(t.size_type)
        if not proto.members:
            continue
        _, first = btf.skip_mods_and_typedefs(proto.members[0][1])
        if first.kind != PTR or btf.skip_mods_and_typedefs(first.size_type)[1].name != "bpf_iter_meta":
            continue
        args = [(i, 8 * i) for i, (_, tid) in enumerate(proto.members)
                if btf.skip_mods_and_typedefs(tid)[1].kind == PTR]
        yield t.name[len("bpf_iter_"):], args


def main() -> int:
    btf = kernel_btf()
    found: dict[str, dict[int, tuple[str, str]]] = {}
    skipped = []
    for target, args in targets(btf):
        per: dict[int, tuple[str, str]] = {}
        ok = True
        for i, off in args:
            r = load_ctx_read(target, "trace_iter", i, off)
            if r.verdict != "accept":
                ok = False
                break
            if f"arg{i} has btf_id" in r.log:
                continue  # read through the kernel's BTF, not a registered argument
            m = _R2.search(r.log)
            parsed = split_btf_type(m.group(1)) if m else None
            if parsed is None:
                print(f"{target} arg{i}: unexpected register {m.group(1) if m else None}", file=sys.stderr)
                ok = False
                break
            per[i] = parsed
        if ok:
            found[target] = per
        else:
            skipped.append(target)
    out = os.path.join(os.path.dirname(__file__), "..", "pyverifier", "iter_args.py")
    with open(out, "w") as f:
        f.write('"""The context arguments of BPF iterator targets (measured by scripts/measure_iter_args.py on\n'
                "Linux " + os.uname().release + '; data only).\n\n'
                "``ARGS[target][arg]`` is (the register type as the log prints it, kernel struct name) for each\n"
                "pointer argument the "
                "target registers; the other arguments are read through the kernel's BTF. A target missing\n"
                "here could not be loaded without more (a map to iterate over): not modelled.\n\"\"\"\n\n")
        f.write("ARGS: dict[str, dict[int, tuple[str, str]]] = {\n")
        for target in sorted(found):
            f.write(f"    {target!r}: {found[target]!r},\n")
        f.write("}\n")
    print(f"{len(found)} targets measured, {len(skipped)} left out ({', '.join(skipped)}); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
