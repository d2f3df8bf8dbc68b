"""Reading a run directory written by compare/: run.json, programs.jsonl, the result tables."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pyverifier.program import Program


# Columns of comparison.parquet the report reads; those in REQUIRED must be there, the others
# are filled with missing values when absent (an older or partial run).
COMPARISON_REQUIRED = ("program_id", "kernel_verdict", "py_verdict", "class")
COMPARISON_COLUMNS = COMPARISON_REQUIRED + (
    "name", "source", "prog_type", "tags", "insn_count", "size_class", "expect_verdict",
    "kernel_message", "py_message", "kernel_insns", "py_insns", "kernel_us", "py_us",
)
RESULTS_COLUMNS = ("program_id", "verifier", "verifier_kind", "verdict", "message", "log_path")


class RunDirError(ValueError):
    """The run directory lacks something the report needs."""


@dataclass
class RunData:
    run_dir: Path
    meta: dict[str, Any]
    programs: dict[str, Program]  # by program id, in corpus order
    results: pd.DataFrame  # one row per (program_id, verifier)
    comparison: pd.DataFrame  # one row per program
    bad_program_lines: list[str] = field(default_factory=list)  # lines of programs.jsonl that did not parse


def _read_table(run_dir: Path, stem: str, required: bool) -> pd.DataFrame | None:
    pq = run_dir / f"{stem}.parquet"
    csv = run_dir / f"{stem}.csv"
    if pq.exists():
        return pd.read_parquet(pq)
    if csv.exists():
        return pd.read_csv(csv, keep_default_na=False, na_values=[""])
    if required:
        raise RunDirError(f"{run_dir}: neither {stem}.parquet nor {stem}.csv exists")
    return None


def _read_programs(path: Path) -> tuple[dict[str, Program], list[str]]:
    programs: dict[str, Program] = {}
    bad: list[str] = []
    if not path.exists():
        return programs, bad
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                p = Program.from_json(line)
            except ValueError as e:
                bad.append(f"line {lineno}: {e}")
                continue
            programs[p.id] = p
    return programs, bad


def load_run(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir} is not a directory")
    meta_path = run_dir / "run.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    programs, bad = _read_programs(run_dir / "programs.jsonl")
    comparison = _read_table(run_dir, "comparison", required=True)
    missing = [c for c in COMPARISON_REQUIRED if c not in comparison.columns]
    if missing:
        raise RunDirError(f"{run_dir}: comparison table lacks the column(s) {', '.join(missing)}")
    comparison = _with_columns(comparison, COMPARISON_COLUMNS)
    comparison["program_id"] = comparison["program_id"].astype(str)
    results = _read_table(run_dir, "results", required=False)
    results = _with_columns(results if results is not None else pd.DataFrame(), RESULTS_COLUMNS)
    return RunData(run_dir, meta, programs, results, comparison, bad)


def _with_columns(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    absent = [c for c in columns if c not in df.columns]
    if absent:
        df = df.assign(**{c: pd.Series([None] * len(df), index=df.index, dtype=object) for c in absent})
    return df


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with ``None`` for every missing value (NaN, NA, NaT)."""
    if df.empty:
        return []
    obj = df.astype(object)
    return obj.where(obj.notna(), None).to_dict("records")
