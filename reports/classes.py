"""How the report shows each agreement class (compare/ decides the class; this only displays it)."""
from __future__ import annotations

from typing import NamedTuple


class ClassInfo(NamedTuple):
    key: str
    label: str
    description: str
    severity: str  # css modifier: "alarm", "warn", "info", "ok"


# Display order: the most alarming first.
CLASSES: tuple[ClassInfo, ...] = (
    ClassInfo(
        "py_permissive",
        "pyverifier permissive",
        "kernel rejects, pyverifier accepts: a soundness bug in pyverifier or a hole in the kernel",
        "alarm",
    ),
    ClassInfo("py_stricter", "pyverifier stricter", "kernel accepts, pyverifier rejects", "warn"),
    ClassInfo(
        "both_reject_different",
        "both reject, different reason",
        "both verifiers reject, with different messages",
        "warn",
    ),
    ClassInfo("tool_error", "tool error", "a verifier failed to run (not a verdict)", "warn"),
    ClassInfo("not_modelled", "not modelled", "pyverifier does not model a feature the program uses", "info"),
    ClassInfo("both_reject_same", "both reject, same reason", "both verifiers reject with the same message", "ok"),
    ClassInfo("both_accept", "both accept", "both verifiers accept", "ok"),
)

_BY_KEY = {c.key: c for c in CLASSES}
ORDER = {c.key: i for i, c in enumerate(CLASSES)}


def info(key: str | None) -> ClassInfo:
    """The display info of a class; an unknown class is shown as itself, after the known ones."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    k = key or "unclassified"
    return ClassInfo(k, k.replace("_", " "), "a class this report version does not know", "info")


def order(key: str | None) -> int:
    return ORDER.get(key or "", len(CLASSES))
