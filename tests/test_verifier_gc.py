"""pyverifier frees a verification by reference counting alone.

A verification that left reference cycles behind (explored states and their list entries, the
liveness pointing back at the verifier) would hand its whole object graph to the cycle
collector: memory is then not reused until a collection runs, and the benchmark's timings
depend on when it does. ``verify`` cuts those links when it frees its states, as the kernel
frees its own before it stops its clock.
"""
from __future__ import annotations

import gc

import pytest

from selftests.corpus import load_corpus
from pyverifier.verifier import verify


def _programs():
    progs, _ = load_corpus("builtin")
    # everything but the programs near the limits (seconds each): states, pruning, subprograms,
    # callbacks, iterators, references, rejections and errors are all among them
    return [p for p in progs if p.insn_count < 400]


@pytest.mark.parametrize("level", [0, 2])
def test_verify_leaves_no_cyclic_garbage(level):
    progs = _programs()
    assert len(progs) > 300
    for p in progs[:20]:
        verify(p, level)  # imports and process-wide caches first
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        leaks = {}
        for p in progs:
            verify(p, level)
            n = gc.collect()
            if n:
                leaks[p.id] = n
    finally:
        if was:
            gc.enable()
    assert leaks == {}, f"verifications that left reference cycles (objects freed by the collector): {leaks}"
