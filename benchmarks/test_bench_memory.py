"""Peak memory of pyverifier per built-in program (tracemalloc), recorded as extra_info beside the time of the
measured run."""
from __future__ import annotations

import pytest

from bench_corpus import decided_programs


@pytest.mark.parametrize("program,size_class", decided_programs(), ids=[p.name for p, _ in decided_programs()])
def test_pyverifier_memory(benchmark, program, size_class):
    from compare.bench_memory import measure

    benchmark.group = f"memory {size_class}"
    m = benchmark.pedantic(measure, args=(program, 0), rounds=1, iterations=1)
    assert m["peak_bytes"] > 0
    benchmark.extra_info["peak_bytes"] = m["peak_bytes"]
    benchmark.extra_info.update({f"part {k}": v for k, v in m["parts"].items()})
