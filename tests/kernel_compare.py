"""One way for tests to compare pyverifier with the live kernel on a program: full log, verdict, statistics.

Kernel map addresses become ``map[IDX]`` (``disasm.normalize_log``) and the kernel's
``verification time`` goes (also where the kernel glues it onto a last line without a
newline); everything else must be byte-identical.
"""
from __future__ import annotations

import difflib
import re

from pyverifier.disasm import normalize_log
from pyverifier.insn import decode
from pyverifier.program import Program
from pyverifier.verifier import verify


def norm(log: str, insns) -> str:
    log = normalize_log(log, insns)
    log = re.sub(r"verification time \d+ usec", "verification time X usec", log)
    # the kernel prints a map address where pyverifier prints map[IDX] or map_value[IDX]+OFF: their
    # lengths differ, so the padding before the state comment too
    return re.sub(r"(\(18\) r\d+ = map(?:_value)?\[\d+\](?:\+\d+)?) +;", r"\1 ;", log)


def same_as_kernel(p: Program, level: int = 2, stack_depth: bool = False):
    """Assert pyverifier and the kernel agree on ``p`` at log ``level``; returns pyverifier's Result."""
    from kernel_loader import load

    k = load(p, log_level=level)
    assert k.verdict in ("accept", "reject"), k.message
    r = verify(p, level | 4)
    insns = decode(p.insns)
    kl, pl = norm(k.log, insns), norm(r.log, insns)
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier", n=2))
    assert (r.verdict, r.errno, r.message) == (k.verdict, k.errno, k.message)
    assert (r.insns_processed, r.total_states, r.peak_states, r.max_states_per_insn) == \
        (k.insns_processed, k.total_states, k.peak_states, k.max_states_per_insn)
    if stack_depth:
        assert r.stack_depth == k.stack_depth
    return r
