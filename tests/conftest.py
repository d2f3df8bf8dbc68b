"""Shared test set-up: markers that skip with a clear reason where a facility is missing.

- ``bpf``: needs bpf(BPF_PROG_LOAD) (root on a kernel that allows it).
- ``bcc``: needs bcc able to compile (python3-bpfcc and kernel headers).
- ``chromium``: needs headless Chromium.
Set VD_REQUIRE_BPF=1 (CI does) to turn a missing facility into a failure instead of a skip,
so that a green CI proves the kernel tests really ran.
"""
from __future__ import annotations

import functools
import os
import shutil

import pytest

REQUIRE = os.environ.get("VD_REQUIRE_BPF") == "1"


@functools.lru_cache(maxsize=None)
def _bpf() -> tuple[bool, str]:
    from kernel_loader import bpf_status

    return bpf_status()


@functools.lru_cache(maxsize=None)
def _bcc() -> tuple[bool, str]:
    try:
        import bcc  # noqa: F401
    except Exception as e:  # noqa: BLE001
        return False, f"bcc is not importable ({e}): install python3-bpfcc (./scripts/setup.sh does)"
    kr = os.uname().release
    if not os.path.exists(f"/lib/modules/{kr}/build/include"):
        return False, f"no kernel headers at /lib/modules/{kr}/build: ./scripts/setup.sh links Debian's"
    return True, ""


@functools.lru_cache(maxsize=None)
def _chromium() -> tuple[bool, str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return True, ""
    return False, "headless Chromium is not installed: apt-get install chromium (./run_tests.sh does)"


_CHECKS = {"bpf": _bpf, "bcc": _bcc, "chromium": _chromium}


def pytest_runtest_setup(item):
    for name, check in _CHECKS.items():
        if item.get_closest_marker(name) is None:
            continue
        ok, reason = check()
        if not ok:
            if REQUIRE:
                pytest.fail(f"VD_REQUIRE_BPF=1 but {name} is unavailable: {reason}")
            pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture
def kernel_available() -> bool:
    return _bpf()[0]
