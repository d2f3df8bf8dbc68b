"""The programs the benchmark suites measure (shared by the suites)."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def builtin_programs():
    """The built-in corpus, each program with the size class of its length."""
    from compare.classify import size_class
    from selftests.corpus import load_corpus

    programs, _ = load_corpus("builtin")
    return [(p, size_class(p.insn_count)) for p in programs]


@functools.lru_cache(maxsize=None)
def decided_programs():
    """Built-in programs pyverifier decides (accept or reject), warmed up once."""
    from pyverifier.verifier import verify

    out = []
    for p, sc in builtin_programs():
        if verify(p, log_level=4).verdict in ("accept", "reject"):
            out.append((p, sc))
    return out
