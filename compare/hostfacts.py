"""The host facts pyverifier's rules depend on, handed to it by whoever runs it (it does no I/O).

``install()`` sets them in this process: the kernel's ``nr_cpu_ids`` (bpf_get_smp_processor_id
returns a value below it) and the running kernel's BTF, read the first time a program needs it
(kfuncs, tracing contexts, kernel-object pointers). ``compare.verifiers`` installs them in the
run's process and ``compare.pyworker`` in its child interpreter, so both verify with the same
facts. Standard library, pyverifier and ``selftests.btf`` only (a PyPy 3.9 worker imports it).
"""
from __future__ import annotations

import pyverifier.helpers
import pyverifier.kbtf
from selftests.btf import kernel_btf


def possible_cpus(path: str = "/sys/devices/system/cpu/possible") -> int | None:
    """The kernel's nr_cpu_ids: one more than the highest CPU in the possible mask ("0-1" -> 2)."""
    try:
        text = open(path).read().strip()
    except OSError:
        return None
    highest = max(int(part.split("-")[-1]) for part in text.split(",") if part)
    return highest + 1


_installed = False


def install() -> None:
    """Hand pyverifier the host facts (once per process: the BTF it has parsed stays)."""
    global _installed
    if _installed:
        return
    pyverifier.helpers.NR_CPU_IDS = possible_cpus()
    pyverifier.kbtf.set_provider(kernel_btf)
    _installed = True
