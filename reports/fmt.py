"""Number formatting for the report pages (jinja2 filters)."""
from __future__ import annotations

import math
import numbers
from typing import Any


def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v: Any) -> str:
    """An integer count with thousands separators, or an en dash when missing."""
    if is_missing(v):
        return "–"
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


def usec(v: Any) -> str:
    """A duration given in microseconds, in the unit that reads best."""
    if is_missing(v):
        return "–"
    v = float(v)
    if v < 1_000:
        return f"{v:.0f} µs" if v >= 10 else f"{v:.1f} µs"
    if v < 1_000_000:
        return f"{v / 1_000:.2f} ms"
    return f"{v / 1_000_000:.2f} s"


def nbytes(v: Any) -> str:
    if is_missing(v):
        return "–"
    v = float(v)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if v < 1024 or unit == "TiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return str(v)  # unreachable


def sortval(v: Any) -> str:
    """The value a sortable numeric cell carries in ``data-v`` (empty when missing)."""
    if is_missing(v):
        return ""
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        return repr(float(v))
    return str(v)
