"""Classifying each program by how the kernel's and pyverifier's verdicts relate."""
from __future__ import annotations

import re

import pandas as pd

from pyverifier.result import NOT_MODELLED

BOTH_ACCEPT = "both_accept"
BOTH_REJECT_SAME = "both_reject_same"
BOTH_REJECT_DIFFERENT = "both_reject_different"
PY_STRICTER = "py_stricter"  # kernel accepts, pyverifier rejects
PY_PERMISSIVE = "py_permissive"  # kernel rejects, pyverifier accepts: soundness bug or kernel hole
NOT_MODELLED_CLASS = "not_modelled"
TOOL_ERROR = "tool_error"

# most urgent first: the order reports list them in
CLASSES = (
    PY_PERMISSIVE,
    PY_STRICTER,
    BOTH_REJECT_DIFFERENT,
    NOT_MODELLED_CLASS,
    TOOL_ERROR,
    BOTH_REJECT_SAME,
    BOTH_ACCEPT,
)

SIZE_CLASSES = ("simple", "medium", "complex", "maximum")

_ADDR = re.compile(r"0x[0-9a-f]{8,16}")


def size_class(insn_count: int) -> str:
    if insn_count < 100:
        return "simple"
    if insn_count < 1000:
        return "medium"
    if insn_count < 10000:
        return "complex"
    return "maximum"


def normalize_message(msg: str | None) -> str:
    """Make messages comparable: kernel addresses differ from load to load."""
    if not msg or not isinstance(msg, str):
        return ""
    return _ADDR.sub("0x…", msg.strip())


def classify(kernel_verdict: str | None, py_verdict: str | None, kernel_msg: str | None, py_msg: str | None) -> str:
    if py_verdict == "error" and isinstance(py_msg, str) and py_msg.startswith(NOT_MODELLED):
        return NOT_MODELLED_CLASS
    if kernel_verdict not in ("accept", "reject") or py_verdict not in ("accept", "reject"):
        return TOOL_ERROR
    if kernel_verdict == "accept":
        return BOTH_ACCEPT if py_verdict == "accept" else PY_STRICTER
    if py_verdict == "accept":
        return PY_PERMISSIVE
    return BOTH_REJECT_SAME if normalize_message(kernel_msg) == normalize_message(py_msg) else BOTH_REJECT_DIFFERENT


def _is_extra_kernel(kind: str) -> bool:
    """Kernels beside the host's privileged one: the QEMU matrix ("kernel-6.1") and the unprivileged load."""
    return kind.startswith("kernel-") or kind == "kernel_unpriv"


def extra_kernel_kinds(comp: pd.DataFrame) -> list[str]:
    """The extra kernels of a comparison table, from its "<kind>_verdict" columns."""
    return sorted(c[: -len("_verdict")] for c in comp.columns
                  if c.endswith("_verdict") and _is_extra_kernel(c[: -len("_verdict")]))


def comparison_table(results: pd.DataFrame, programs: pd.DataFrame) -> pd.DataFrame:
    """One row per program: both verdicts side by side and the class.

    ``results`` has one row per (program_id, verifier_kind); ``programs`` one
    row per program with id, name, source, prog_type, tags, insn_count, expect_verdict.
    """
    def side(kind: str, prefix: str) -> pd.DataFrame:
        r = results[results["verifier_kind"] == kind].set_index("program_id")
        cols = {
            "verdict": f"{prefix}_verdict",
            "message": f"{prefix}_message",
            "insns_processed": f"{prefix}_insns",
            "verify_us_mean": f"{prefix}_us",
            "total_states": f"{prefix}_total_states",
            "peak_states": f"{prefix}_peak_states",
        }
        return r[[c for c in cols if c in r.columns]].rename(columns=cols)

    table = programs.set_index("program_id")
    table = table.join(side("kernel", "kernel"), how="left").join(side("pyverifier", "py"), how="left")
    # other kernels (the QEMU matrix: "kernel-6.1", ...) as extra columns, "<kind>_verdict" and so on
    for kind in sorted(k for k in results["verifier_kind"].unique() if _is_extra_kernel(k)):
        table = table.join(side(kind, kind), how="left")
    if "attach_check" in results.columns:
        k = results[results["verifier_kind"] == "kernel"].set_index("program_id")["attach_check"]
        if k.notna().any():
            table = table.join(k.rename("kernel_attach_check"), how="left")
    table["size_class"] = table["insn_count"].map(size_class)
    table["class"] = [
        classify(k, p, km, pm)
        for k, p, km, pm in zip(table["kernel_verdict"], table["py_verdict"], table["kernel_message"], table["py_message"])
    ]
    return table.reset_index()
