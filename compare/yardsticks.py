"""The issues' yardsticks, computed from a run directory: ``verifier-diff yardsticks RUN``.

- verdict agreement (where both verifiers decide, and over all programs),
- identical rejection message on shared rejections,
- identical full logs,
- on programs both accept: identical ``processed N insns``, identical total/peak states,
  the largest pyverifier/kernel ratio of processed insns,
- complexity rejections pyverifier makes that the kernel does not,
- programs pyverifier crashed on (verdict error that is not "not modelled"),
- the pyverifier/kernel verification time ratio (median of per-program ratios).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .classify import NOT_MODELLED_CLASS, PY_PERMISSIVE, PY_STRICTER


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 2) if d else None


def yardsticks(run: Path) -> dict:
    comp = pd.read_parquet(run / "comparison.parquet")
    res = pd.read_parquet(run / "results.parquet")
    n = len(comp)
    decided = comp[comp["kernel_verdict"].isin(["accept", "reject"]) & comp["py_verdict"].isin(["accept", "reject"])]
    same = decided[decided["kernel_verdict"] == decided["py_verdict"]]
    both_rej = decided[(decided["kernel_verdict"] == "reject") & (decided["py_verdict"] == "reject")]
    same_msg = both_rej[both_rej["class"] == "both_reject_same"]
    both_acc = decided[(decided["kernel_verdict"] == "accept") & (decided["py_verdict"] == "accept")]
    ki = pd.to_numeric(both_acc["kernel_insns"], errors="coerce")
    pi = pd.to_numeric(both_acc["py_insns"], errors="coerce")
    ks = pd.to_numeric(both_acc.get("kernel_total_states"), errors="coerce")
    ps = pd.to_numeric(both_acc.get("py_total_states"), errors="coerce")
    kp = pd.to_numeric(both_acc.get("kernel_peak_states"), errors="coerce")
    pp = pd.to_numeric(both_acc.get("py_peak_states"), errors="coerce")
    ratio = (pi / ki.where(ki > 0)).dropna()
    py = res[res["verifier_kind"] == "pyverifier"].set_index("program_id")
    crashed = py[(py["verdict"] == "error") & ~py["message"].fillna("").str.startswith("not modelled: ")]
    too_large = comp[(comp["class"] == PY_STRICTER)
                     & comp["py_message"].fillna("").str.contains("BPF program is too large|too complex", regex=True)]
    kt = pd.to_numeric(decided["kernel_us"], errors="coerce")
    pt = pd.to_numeric(decided["py_us"], errors="coerce")
    tr = (pt / kt.where(kt > 0)).dropna()
    identical = int(comp["logs_identical"].fillna(False).astype(bool).sum()) if "logs_identical" in comp else 0
    return {
        "run": str(run),
        "programs": n,
        "classes": comp["class"].value_counts().to_dict(),
        "decided_by_both": len(decided),
        "verdict_agreement_where_both_decide_pct": _pct(len(same), len(decided)),
        "verdict_agreement_all_pct": _pct(len(same), n),
        "not_modelled": int((comp["class"] == NOT_MODELLED_CLASS).sum()),
        "py_permissive": int((comp["class"] == PY_PERMISSIVE).sum()),
        "py_stricter": int((comp["class"] == PY_STRICTER).sum()),
        "shared_rejections": len(both_rej),
        "same_message_on_shared_rejections_pct": _pct(len(same_msg), len(both_rej)),
        "identical_logs": identical,
        "identical_logs_pct": _pct(identical, n),
        "both_accept": len(both_acc),
        "same_insns_processed_pct": _pct(int((ki == pi).sum()), len(both_acc)),
        "same_total_states_pct": _pct(int((ks == ps).sum()), len(both_acc)),
        "same_peak_states_pct": _pct(int((kp == pp).sum()), len(both_acc)),
        "max_insns_ratio_py_over_kernel": round(float(ratio.max()), 3) if len(ratio) else None,
        "py_complexity_rejections_kernel_accepts": len(too_large),
        "pyverifier_crashes": len(crashed),
        "time_ratio_py_over_kernel_median": round(float(tr.median()), 2) if len(tr) else None,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="verifier-diff yardsticks", description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, nargs="+", help="run directories")
    args = ap.parse_args(argv)
    out = [yardsticks(r) for r in args.run]
    print(json.dumps(out if len(out) > 1 else out[0], indent=1))
    return 0
