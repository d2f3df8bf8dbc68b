"""What a run ran on: host, CPU, memory, kernel, Python and package versions."""
from __future__ import annotations

import os
import platform
import socket
from importlib import metadata

PACKAGES = ("verifier-diff", "pandas", "pyarrow", "matplotlib", "jinja2", "pyroute2", "pyelftools", "hypothesis", "pytest")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def _bcc_version() -> str | None:
    try:
        import bcc  # noqa: F401

        return metadata.version("bcc") if _has_dist("bcc") else "system"
    except Exception:  # noqa: BLE001
        return None


def _has_dist(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def describe() -> dict:
    pkgs = {}
    for p in PACKAGES:
        try:
            pkgs[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pkgs[p] = None
    return {
        "host": {
            "hostname": socket.gethostname(),
            "cpu_model": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "mem_total_bytes": _mem_total(),
            "kernel_release": platform.release(),
            "machine": platform.machine(),
            "os": _os_name(),
        },
        "python": platform.python_version(),
        "packages": pkgs,
        "bcc": _bcc_version(),
    }
