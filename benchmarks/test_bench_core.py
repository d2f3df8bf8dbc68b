"""pyverifier's core operations (the cases of compare.bench_micro): state, tnum, scalar ALU, sync, branches,
state comparison."""
from __future__ import annotations

import pytest

from compare.bench_micro import cases

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}: {c.name}" for c in CASES])
def test_core_operation(benchmark, case):
    if case.fn is None:
        pytest.skip(case.note)
    benchmark.group = case.group
    benchmark(case.fn)
