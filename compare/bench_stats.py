"""Statistics for the benchmarks: summaries of repeated measurements, ratios, the memory formula fit.

Every figure the benchmark reports is a ``summary()``: how many measurements
(``n``), their mean, population standard deviation, median, P95, minimum and
maximum. P95 uses linear interpolation between closest ranks (numpy's default,
the same as pandas' ``quantile``), so it is defined for any ``n >= 1``.

``fit_linear`` fits ``y = c0 + c1*x1 + c2*x2 + ...`` by least squares; the
memory section uses it for ``peak_bytes = base + insns x B + states x S``.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np


def _clean(xs: Iterable[float | int | None]) -> list[float]:
    out = []
    for x in xs:
        if x is None:
            continue
        x = float(x)
        if math.isnan(x):
            continue
        out.append(x)
    return out


def percentile(xs: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation; ``None`` for no data."""
    xs = _clean(xs)
    if not xs:
        return None
    s = sorted(xs)
    pos = (len(s) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    if lo == hi:
        return s[lo]
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(xs: Iterable[float | int | None]) -> dict[str, float | int | None]:
    """``{"n", "mean", "std", "median", "p95", "min", "max"}`` of the measurements (missing ones dropped)."""
    xs = _clean(xs)
    n = len(xs)
    if not n:
        return {"n": 0, "mean": None, "std": None, "median": None, "p95": None, "min": None, "max": None}
    mean = math.fsum(xs) / n
    var = math.fsum((x - mean) ** 2 for x in xs) / n
    return {
        "n": n,
        "mean": mean,
        "std": math.sqrt(var),
        "median": percentile(xs, 50),
        "p95": percentile(xs, 95),
        "min": min(xs),
        "max": max(xs),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, ``None`` when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def pct_of(value: float | None, baseline: float | None) -> float | None:
    """``value`` as a percentage of ``baseline`` (100 = as fast as the baseline)."""
    r = ratio(value, baseline)
    return None if r is None else 100.0 * r


def fit_linear(rows: Sequence[Sequence[float]], y: Sequence[float], names: Sequence[str]) -> dict:
    """Least-squares fit of ``y = intercept + sum(coef_i * row_i)``.

    Returns ``{"n", "intercept", "coef": {name: value}, "r2", "rmse", "rank"}``;
    ``None`` values when there are fewer points than unknowns. ``rank`` below
    the number of unknowns means the columns are collinear on these data (e.g.
    every program has the same state count) and the coefficients are the
    minimum-norm solution, not a unique one.
    """
    n = len(y)
    k = len(names)
    if n != len(rows):
        raise ValueError(f"{len(rows)} rows but {n} targets")
    if n < k + 1:
        return {"n": n, "intercept": None, "coef": {nm: None for nm in names}, "r2": None, "rmse": None, "rank": None}
    a = np.column_stack([np.ones(n)] + [np.asarray([float(r[i]) for r in rows]) for i in range(k)])
    yv = np.asarray([float(v) for v in y])
    sol, _res, rank, _sv = np.linalg.lstsq(a, yv, rcond=None)
    pred = a @ sol
    ss_res = float(np.sum((yv - pred) ** 2))
    ss_tot = float(np.sum((yv - yv.mean()) ** 2))
    return {
        "n": n,
        "intercept": float(sol[0]),
        "coef": {nm: float(sol[i + 1]) for i, nm in enumerate(names)},
        "r2": (1.0 - ss_res / ss_tot) if ss_tot > 0 else None,
        "rmse": math.sqrt(ss_res / n),
        "rank": int(rank),
    }
