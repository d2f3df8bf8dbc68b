"""pytest-benchmark suites of verifier-diff (run: ``.venv/bin/pytest benchmarks/``; not part of tests/).

The ``bpf`` marker skips, with the reason, where bpf(BPF_PROG_LOAD) is unavailable
(VD_REQUIRE_BPF=1 makes that a failure, as in tests/).
"""
from __future__ import annotations

import functools
import os

import pytest

REQUIRE = os.environ.get("VD_REQUIRE_BPF") == "1"


@functools.lru_cache(maxsize=None)
def _bpf() -> tuple[bool, str]:
    from kernel_loader import bpf_status

    return bpf_status()


def pytest_runtest_setup(item):
    if item.get_closest_marker("bpf") is None:
        return
    ok, reason = _bpf()
    if not ok:
        if REQUIRE:
            pytest.fail(f"VD_REQUIRE_BPF=1 but bpf is unavailable: {reason}")
        pytest.skip(f"bpf unavailable: {reason}")
