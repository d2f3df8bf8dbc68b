"""The benchmark's sections, computed from per-program measurements (``ProgramBench.to_dict()`` rows).

Pure functions on plain dicts, so a ``bench.json`` can be re-aggregated and
the tests can feed synthetic rows.

Which programs count for time comparisons: those both verifiers accept, or
both reject with the same message (``compare.classify``'s ``both_accept`` and
``both_reject_same``), each with timings from both. Without the kernel,
every program pyverifier decides (accept or reject) counts for pyverifier
alone. Everything else is listed in ``excluded`` with its reason.

Per program the figure is the median of its repetitions; a group (size class,
instruction type) summarises its programs' medians (``n`` = programs) and
gives ``iterations``, the repetitions behind them. The ratio of a group is the
median of its programs' pyverifier/kernel ratios (one slow program does not
dominate); ``pct`` is that ratio as a percentage of the kernel's time.
"""
from __future__ import annotations

from typing import Iterable

from .bench_stats import fit_linear, ratio, summary
from .classify import BOTH_ACCEPT, BOTH_REJECT_SAME, NOT_MODELLED_CLASS, SIZE_CLASSES, TOOL_ERROR

COMPARABLE = (BOTH_ACCEPT, BOTH_REJECT_SAME)

# instruction-type groups: group -> the corpus tags that put a program in it
INSN_TYPE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("alu", ("alu", "alu32")),
    ("memory/stack", ("memory", "stack")),
    ("helper", ("helper",)),
    ("kfunc", ("kfunc",)),
    ("map", ("map",)),
    ("branch/loop", ("branch", "loop")),
)

# The seed's published figures for a Rust userspace verifier, per size class (microseconds).
RUST_BAR_US = {"simple": 24.82, "medium": 45.09, "complex": 1040.0}

# The target: median pyverifier time at most this many times the kernel's.
TARGET_RATIO = 3.0


def _median(xs: list[float]) -> float | None:
    return summary(xs)["median"]


def program_times(row: dict) -> tuple[float | None, float | None]:
    """(kernel median us, pyverifier median us) of one program row."""
    k = row.get("kernel") or {}
    p = row.get("pyverifier") or {}
    return _median(k.get("times_us") or []), _median(p.get("times_us") or [])


def exclusion_reason(row: dict, with_kernel: bool) -> str | None:
    """Why a program does not count for time comparisons, or ``None`` when it counts."""
    p = row.get("pyverifier") or {}
    k = row.get("kernel") or {}
    cls = row.get("class")
    if p.get("note") == "budget":
        return p.get("message") or "pyverifier over the time budget"
    if with_kernel:
        if cls == NOT_MODELLED_CLASS:
            return f"pyverifier: {p.get('message')}"
        if cls == TOOL_ERROR:
            side = "kernel" if k.get("verdict") not in ("accept", "reject") else "pyverifier"
            msg = (k if side == "kernel" else p).get("message")
            return f"{side} error: {msg}"
        if cls not in COMPARABLE:
            return (f"{cls}: kernel {k.get('verdict')} ({k.get('message') or '-'}), "
                    f"pyverifier {p.get('verdict')} ({p.get('message') or '-'})")
        if not k.get("times_us"):
            return "kernel reported no verification time"
    elif p.get("verdict") not in ("accept", "reject"):
        return f"pyverifier {p.get('verdict')}: {p.get('message')}"
    if not p.get("times_us"):
        return p.get("note") or "pyverifier has no timing"
    return None


def split(rows: list[dict], with_kernel: bool) -> tuple[list[dict], list[dict]]:
    """(compared rows, excluded ``{"id", "size_class", "class", "reason"}``)."""
    compared, excluded = [], []
    for r in rows:
        why = exclusion_reason(r, with_kernel)
        if why is None:
            compared.append(r)
        else:
            excluded.append({"id": r["id"], "size_class": r.get("size_class"), "class": r.get("class"), "reason": why})
    return compared, excluded


def time_group(rows: list[dict]) -> dict:
    """Timing figures of a group of compared programs (see the module doc)."""
    ks, ps, rs = [], [], []
    iters_k = iters_p = 0
    for r in rows:
        k, p = program_times(r)
        iters_k += len((r.get("kernel") or {}).get("times_us") or [])
        iters_p += len((r.get("pyverifier") or {}).get("times_us") or [])
        if k is not None:
            ks.append(k)
        if p is not None:
            ps.append(p)
        rr = ratio(p, k)
        if rr is not None:
            rs.append(rr)
    kern = summary(ks)
    py = summary(ps)
    rmed = _median(rs)
    return {
        "programs": len(rows),
        "kernel_iterations": iters_k,
        "py_iterations": iters_p,
        "kernel_us": kern,
        "py_us": py,
        "ratio_median": rmed,
        "ratio_of_medians": ratio(py["median"], kern["median"]),
        "pct": None if rmed is None else 100.0 * rmed,
        "ratio": summary(rs),
    }


def by_size_class(rows: list[dict]) -> dict:
    return {sc: time_group([r for r in rows if r.get("size_class") == sc]) for sc in SIZE_CLASSES}


def insn_type_groups(tags: Iterable[str]) -> list[str]:
    ts = set(tags)
    return [g for g, wanted in INSN_TYPE_GROUPS if ts & set(wanted)]


def by_insn_type(rows: list[dict]) -> dict:
    groups = {g: time_group([r for r in rows if g in insn_type_groups(r.get("tags") or ())])
              for g, _ in INSN_TYPE_GROUPS}
    return {
        "groups": groups,
        "tags": {g: list(t) for g, t in INSN_TYPE_GROUPS},
        "empty": [g for g, v in groups.items() if not v["programs"]],
    }


def rust_bar(size: dict) -> dict:
    """pyverifier's (and the kernel's) median per size class against the Rust verifier's published figure."""
    out = {}
    for sc, bar in RUST_BAR_US.items():
        g = size.get(sc) or {}
        py = (g.get("py_us") or {}).get("median")
        k = (g.get("kernel_us") or {}).get("median")
        out[sc] = {
            "rust_us": bar,
            "programs": g.get("programs", 0),
            "py_median_us": py,
            "py_over_rust": ratio(py, bar),
            "kernel_median_us": k,
            "kernel_over_rust": ratio(k, bar),
        }
    return out


def memory(rows: list[dict]) -> dict:
    """pyverifier's peak memory per size class, the parts, the fitted formula; both verifiers' state counts."""
    measured = [r for r in rows if (r.get("memory") or {}).get("peak_bytes") is not None
                and (r.get("pyverifier") or {}).get("verdict") in ("accept", "reject")]
    per_class = {}
    for sc in SIZE_CLASSES:
        part = [r for r in measured if r.get("size_class") == sc]
        allr = part  # the kernel's state counts over the same programs
        per_class[sc] = {
            "programs": len(part),
            "peak_bytes": summary([r["memory"]["peak_bytes"] for r in part]),
            "py_peak_states": summary([(r.get("pyverifier") or {}).get("peak_states") for r in part]),
            "py_total_states": summary([(r.get("pyverifier") or {}).get("total_states") for r in part]),
            "kernel_peak_states": summary([(r.get("kernel") or {}).get("peak_states") for r in allr]),
            "kernel_total_states": summary([(r.get("kernel") or {}).get("total_states") for r in allr]),
        }
    part_names: list[str] = []
    for r in measured:
        for nm in (r["memory"].get("parts") or {}):
            if nm not in part_names:
                part_names.append(nm)
    parts = {}
    for nm in part_names:
        vals = [r["memory"]["parts"].get(nm) for r in measured]
        shares = [ratio(r["memory"]["parts"].get(nm), r["memory"]["peak_bytes"]) for r in measured]
        parts[nm] = {"bytes": summary(vals), "share_of_peak": summary(shares)}
    fit_rows = [r for r in measured if (r.get("pyverifier") or {}).get("peak_states") is not None]
    fit = fit_linear(
        [(r["insn_count"], r["pyverifier"]["peak_states"]) for r in fit_rows],
        [r["memory"]["peak_bytes"] for r in fit_rows],
        ("insns", "states"),
    )
    fit["formula"] = format_formula(fit)
    fit["states_means"] = "pyverifier peak_states (explored states alive at once)"
    return {"programs": len(measured), "by_size_class": per_class, "parts": parts, "fit": fit}


def format_formula(fit: dict) -> str:
    if fit.get("intercept") is None:
        return f"not enough programs to fit ({fit.get('n', 0)})"
    c = fit["coef"]
    r2 = fit.get("r2")
    return (f"peak = {fit['intercept']:,.0f} B + insns x {c['insns']:,.1f} B + states x {c['states']:,.1f} B"
            + (f" (R² {r2:.3f}, n={fit['n']})" if r2 is not None else f" (n={fit['n']})"))


def _sum(xs) -> int | None:
    xs = [x for x in xs if x is not None]
    return sum(xs) if xs else None


def pruning(rows: list[dict]) -> dict:
    """States explored and paths pruned per size class, for both verifiers, over the compared programs.

    ``share_saved`` = pruned / (pruned + total_states): of all states the
    verifier either kept as a checkpoint or found equivalent to one, the share
    whose exploration pruning cut short.
    """
    out = {}
    for sc in SIZE_CLASSES:
        part = [r for r in rows if r.get("size_class") == sc]
        g = {"programs": len(part)}
        for side, key in (("kernel", "kernel"), ("py", "pyverifier")):
            vals = [(r.get(key) or {}) for r in part]
            total = _sum(v.get("total_states") for v in vals)
            pruned = _sum(v.get("pruned") for v in vals)
            g[side] = {
                "insns_processed": _sum(v.get("insns_processed") for v in vals),
                "insns_processed_median": summary([v.get("insns_processed") for v in vals])["median"],
                "total_states": total,
                "peak_states": _sum(v.get("peak_states") for v in vals),
                "pruned": pruned,
                "share_saved": ratio(pruned, (pruned or 0) + (total or 0)) if pruned is not None else None,
            }
        out[sc] = g
    return out


def per_program(rows: list[dict]) -> list[dict]:
    """A compact row per program: times (summaries), ratio, memory, statistics."""
    out = []
    for r in rows:
        k = r.get("kernel") or {}
        p = r.get("pyverifier") or {}
        km, pm = program_times(r)
        out.append({
            "id": r["id"],
            "size_class": r.get("size_class"),
            "insn_count": r.get("insn_count"),
            "class": r.get("class"),
            "kernel_us": summary(k.get("times_us") or []),
            "py_us": summary(p.get("times_us") or []),
            "ratio": ratio(pm, km),
            "kernel_insns_processed": k.get("insns_processed"),
            "py_insns_processed": p.get("insns_processed"),
            "peak_bytes": (r.get("memory") or {}).get("peak_bytes"),
        })
    return out


def aggregate(rows: list[dict], with_kernel: bool) -> dict:
    """Every section of bench.json that derives from the per-program rows."""
    compared, excluded = split(rows, with_kernel)
    size = by_size_class(compared)
    overall = time_group(compared)
    # each program's warm-up verification (pyverifier under a JIT) against the kernel's median;
    # None without a warm-up (summary drops the missing ratios)
    overall["warm_up_ratio_median"] = _median(
        [ratio((r.get("pyverifier") or {}).get("warm_up_us"), program_times(r)[0]) for r in compared])
    return {
        "counts": {"programs": len(rows), "compared": len(compared), "excluded": len(excluded)},
        "overall": overall,
        "target": {
            "ratio": TARGET_RATIO,
            "median_ratio": overall["ratio_median"],
            "met": None if overall["ratio_median"] is None else overall["ratio_median"] <= TARGET_RATIO,
        },
        "time_by_size_class": size,
        "time_by_insn_type": by_insn_type(compared),
        "rust_bar": rust_bar(size),
        "memory": memory(rows),
        "pruning": pruning(compared),
        "excluded": excluded,
        "per_program": per_program(compared),
    }
