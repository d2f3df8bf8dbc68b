"""Verification time of the built-in corpus, by size class: pyverifier in-process, the kernel through bpf().

pytest-benchmark groups the results by size class (``--benchmark-group-by=group``).
The kernel benchmark times one BPF_PROG_LOAD from Python (map creation
included); its own ``verification time`` is recorded as ``extra_info``.
``verifier-diff bench`` is the full comparison with the kernel as baseline.
"""
from __future__ import annotations

import statistics

import pytest

from bench_corpus import builtin_programs, decided_programs


def _ids(items):
    return [p.name for p, _ in items]


@pytest.mark.parametrize("program,size_class", decided_programs(), ids=_ids(decided_programs()))
def test_pyverifier_verify(benchmark, program, size_class):
    from pyverifier.verifier import verify

    benchmark.group = f"pyverifier {size_class}"
    benchmark.extra_info["insns"] = program.insn_count
    r = benchmark(verify, program, 4)
    assert r.verdict in ("accept", "reject")
    benchmark.extra_info["insns_processed"] = r.insns_processed


@pytest.mark.bpf
@pytest.mark.parametrize("program,size_class", builtin_programs(), ids=_ids(builtin_programs()))
def test_kernel_load(benchmark, program, size_class):
    import kernel_loader

    benchmark.group = f"kernel {size_class}"
    times: list[float] = []

    def load():
        r = kernel_loader.load(program, log_level=0, repeat=1)
        times.extend(r.verify_us)
        return r

    r = benchmark.pedantic(load, rounds=10, iterations=1, warmup_rounds=1)
    if r.verdict == "error":
        pytest.skip(f"kernel_loader could not load it: {r.message}")
    benchmark.extra_info["kernel_verification_us_median"] = statistics.median(times) if times else None
