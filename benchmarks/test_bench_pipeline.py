"""The run pipeline's work on long logs: comparing two level-2 logs, reading the kernel's statistics.

A program near the instruction limit prints about a hundred megabytes of log per
verifier; these benchmarks use a synthetic log of the same shape (an instruction
line with its state comment per processed instruction), 200,000 lines long.
"""
from __future__ import annotations

import pytest

from compare.divergence import first_divergence
from pyverifier.insn import Insn
from pyverifier.result import parse_log_stats, rejection_message

LINES = 200_000
INSNS = [Insn(0x07, i % 10, 0, 0, 1) for i in range(64)] + [Insn(0x95, 0, 0, 0, 0)]


def _log(time_us: int, last_state: str = "R0=1") -> str:
    body = [f"{i % 64}: (07) r{i % 10} += 1                      ; R{i % 10}_w=scalar(smin=0,smax={i})"
            for i in range(LINES)]
    return ("func#0 @0\n0: R1=ctx() R10=fp0\n" + "\n".join(body) + f"\n64: (95) exit ; {last_state}\n"
            f"verification time {time_us} usec\nstack depth 0\n"
            f"processed {LINES + 1} insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
            "mark_read 0\n")


@pytest.fixture(scope="module")
def logs():
    return _log(1234), _log(0), _log(0, last_state="R0=2")


def test_compare_identical_long_logs(benchmark, logs):
    kernel, same, _ = logs
    benchmark.group = "pipeline"
    assert benchmark(first_divergence, kernel, same, INSNS) is None


def test_compare_long_logs_differing_at_the_end(benchmark, logs):
    kernel, _, differs = logs
    benchmark.group = "pipeline"
    div = benchmark(first_divergence, kernel, differs, INSNS)
    assert div is not None and div.differing == ["R0"] and div.line == LINES + 3


def test_statistics_of_a_long_log(benchmark, logs):
    kernel, _, _ = logs
    benchmark.group = "pipeline"
    stats = benchmark(parse_log_stats, kernel)
    assert stats["insns_processed"] == LINES + 1 and stats["verification_time_us"] == 1234


def test_rejection_message_of_a_long_log(benchmark, logs):
    kernel = logs[0].replace("64: (95) exit ; R0=1\n", "64: (95) exit\nR0 !read_ok\n", 1)
    benchmark.group = "pipeline"
    assert benchmark(rejection_message, kernel) == "R0 !read_ok"
