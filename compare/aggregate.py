"""Aggregate statistics of a run: per size class, the two verifiers side by side.

For each size class (and in total): programs, verdict agreement, identical
logs, identical ``processed`` counts on programs both accept, and the
verification times of both verifiers (mean, standard deviation, P95 over the
per-program means) with the pyverifier/kernel ratio (median of per-program
ratios, so one slow program does not dominate).
"""
from __future__ import annotations

import math

import pandas as pd

from .classify import SIZE_CLASSES


def _stats(xs: pd.Series) -> dict[str, float | None]:
    xs = pd.to_numeric(xs, errors="coerce").dropna()
    if xs.empty:
        return {"mean": None, "std": None, "p95": None, "median": None}
    return {
        "mean": float(xs.mean()),
        "std": float(xs.std(ddof=0)),
        "p95": float(xs.quantile(0.95)),
        "median": float(xs.median()),
    }


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def _group(df: pd.DataFrame) -> dict:
    n = len(df)
    same_verdict = int((df["kernel_verdict"] == df["py_verdict"]).sum())
    decided = df[df["kernel_verdict"].isin(["accept", "reject"]) & df["py_verdict"].isin(["accept", "reject"])]
    both_acc = df[(df["kernel_verdict"] == "accept") & (df["py_verdict"] == "accept")]
    ki = pd.to_numeric(both_acc.get("kernel_insns"), errors="coerce")
    pi = pd.to_numeric(both_acc.get("py_insns"), errors="coerce")
    same_insns = int((ki == pi).sum()) if len(both_acc) else 0
    ks = pd.to_numeric(both_acc.get("kernel_total_states"), errors="coerce")
    ps = pd.to_numeric(both_acc.get("py_total_states"), errors="coerce")
    same_states = int((ks == ps).sum()) if len(both_acc) else 0
    kt = pd.to_numeric(df.get("kernel_us"), errors="coerce")
    pt = pd.to_numeric(df.get("py_us"), errors="coerce")
    ratio = (pt / kt.where(kt > 0)).replace([math.inf], float("nan")).dropna()
    identical = int(df["logs_identical"].fillna(False).astype(bool).sum()) if "logs_identical" in df else 0
    return {
        "programs": n,
        "decided_by_both": len(decided),
        "same_verdict": same_verdict,
        "same_verdict_pct": _pct(same_verdict, n),
        "identical_logs": identical,
        "identical_logs_pct": _pct(identical, n),
        "both_accept": len(both_acc),
        "same_insns_processed": same_insns,
        "same_insns_processed_pct": _pct(same_insns, len(both_acc)),
        "same_total_states": same_states,
        "same_total_states_pct": _pct(same_states, len(both_acc)),
        "kernel_us": _stats(kt),
        "py_us": _stats(pt),
        "py_over_kernel_time_median": float(ratio.median()) if len(ratio) else None,
    }


def aggregate(comp: pd.DataFrame) -> dict:
    """{"all": {...}, "by_size_class": {"simple": {...}, ...}} from a comparison table."""
    out = {"all": _group(comp), "by_size_class": {}}
    for sc in SIZE_CLASSES:
        part = comp[comp["size_class"] == sc]
        if len(part):
            out["by_size_class"][sc] = _group(part)
    return out
