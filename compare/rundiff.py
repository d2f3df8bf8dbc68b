"""Run-versus-run comparison, in the spirit of ``veristat -C``.

Two run directories are joined by (program, verifier kind): the kernel of run
A against the kernel of run B (two kernels, or before/after a patch), and
pyverifier against pyverifier. Each statistic gets ``_base`` (A), ``_comp``
(B), ``_diff`` (B - A) and ``_pct`` columns; the verdict gets MATCH/MISMATCH.

Filters (``-f``, repeatable, all must hold):
  ``verdict=mismatch`` / ``verdict=match``, ``kind=kernel``, ``prog=GLOB`` (program id),
  ``STAT OP NUMBER`` where STAT is a column name such as ``insns_pct`` or
  ``insns_diff`` and OP is one of > >= < <= == !=.
Gates (``--fail-on``, comma-separated): ``verdict`` (any mismatch), or a
``STAT OP NUMBER`` condition; any matching row makes the exit status 1.
"""
from __future__ import annotations

import fnmatch
import operator
import re
from pathlib import Path

import pandas as pd

STATS = {
    # our column -> (results column, veristat-like name)
    "insns": "insns_processed",
    "states": "total_states",
    "peak_states": "peak_states",
    "duration_us": "verify_us_mean",
    "mark_read": "mark_read",
}

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt}
_COND = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.]+)\s*$")


class DiffError(ValueError):
    """A run directory or a filter cannot be used."""


def _load_results(run: Path) -> pd.DataFrame:
    for name in ("results.parquet", "results.csv"):
        p = run / name
        if p.exists():
            return pd.read_parquet(p) if name.endswith("parquet") else pd.read_csv(p)
    raise DiffError(f"{run} holds no results.parquet or results.csv: is it a run directory?")


def join_runs(run_a: Path, run_b: Path) -> pd.DataFrame:
    a, b = _load_results(run_a), _load_results(run_b)
    keys = ["program_id", "verifier_kind"]
    cols = keys + ["verifier", "verdict", "message"] + list(STATS.values())
    a = a[[c for c in cols if c in a.columns]]
    b = b[[c for c in cols if c in b.columns]]
    j = a.merge(b, on=keys, how="outer", suffixes=("_base", "_comp"), indicator=True)
    out = pd.DataFrame({"program_id": j["program_id"], "kind": j["verifier_kind"]})
    out["verifier_base"] = j.get("verifier_base")
    out["verifier_comp"] = j.get("verifier_comp")
    out["verdict_base"] = j["verdict_base"].fillna("missing")
    out["verdict_comp"] = j["verdict_comp"].fillna("missing")
    out["verdict_diff"] = (out["verdict_base"] == out["verdict_comp"]).map({True: "MATCH", False: "MISMATCH"})
    for name, col in STATS.items():
        base = pd.to_numeric(j.get(f"{col}_base"), errors="coerce")
        comp = pd.to_numeric(j.get(f"{col}_comp"), errors="coerce")
        out[f"{name}_base"] = base
        out[f"{name}_comp"] = comp
        out[f"{name}_diff"] = comp - base
        out[f"{name}_pct"] = ((comp - base) / base.where(base != 0) * 100).round(2)
    out["message_base"] = j.get("message_base")
    out["message_comp"] = j.get("message_comp")
    return out.sort_values(["kind", "program_id"]).reset_index(drop=True)


def _condition(df: pd.DataFrame, text: str) -> pd.Series:
    t = text.strip()
    low = t.lower()
    if low in ("verdict=mismatch", "verdict"):
        return df["verdict_diff"] == "MISMATCH"
    if low == "verdict=match":
        return df["verdict_diff"] == "MATCH"
    if low.startswith("kind="):
        return df["kind"] == t.split("=", 1)[1]
    if low.startswith("prog="):
        pat = t.split("=", 1)[1]
        return df["program_id"].map(lambda s: fnmatch.fnmatchcase(s, pat))
    m = _COND.match(t)
    if not m:
        raise DiffError(
            f"cannot read filter {text!r}: use verdict=mismatch, kind=NAME, prog=GLOB, or STAT OP NUMBER "
            f"(STAT one of {', '.join(c for c in df.columns if c.endswith(('_base', '_comp', '_diff', '_pct')))})"
        )
    col, op, num = m.groups()
    if col not in df.columns:
        raise DiffError(f"unknown statistic {col!r} in {text!r}")
    series = pd.to_numeric(df[col], errors="coerce")
    return _OPS[op](series, float(num)).fillna(False)


def apply_filters(df: pd.DataFrame, filters: list[str]) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for f in filters:
        mask &= _condition(df, f)
    return df[mask]


def gate(df: pd.DataFrame, fail_on: str) -> pd.DataFrame:
    """Rows that violate any of the comma-separated gates."""
    mask = pd.Series(False, index=df.index)
    for cond in (c for c in fail_on.split(",") if c.strip()):
        mask |= _condition(df, cond)
    return df[mask]


def format_table(df: pd.DataFrame, stats: list[str] | None = None) -> str:
    stats = stats or ["insns", "states", "duration_us"]
    headers = ["Program", "Kind", "Verdict (A)", "Verdict (B)", "Verdict (DIFF)"]
    for s in stats:
        headers += [f"{s} (A)", f"{s} (B)", f"{s} (DIFF)"]
    rows = []
    for r in df.itertuples(index=False):
        d = r._asdict()
        row = [d["program_id"], d["kind"], d["verdict_base"], d["verdict_comp"], d["verdict_diff"]]
        for s in stats:
            a, b, diff, pct = d[f"{s}_base"], d[f"{s}_comp"], d[f"{s}_diff"], d[f"{s}_pct"]
            row += [_num(a), _num(b), "" if pd.isna(diff) else f"{diff:+g}" + ("" if pd.isna(pct) else f" ({pct:+.2f}%)")]
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _num(x) -> str:
    if x is None or pd.isna(x):
        return "-"
    return f"{x:g}"
