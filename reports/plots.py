"""The report's plots: PNG files drawn with matplotlib's Agg canvas (no display, no pyplot state)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import classes

VERDICT_AXIS = ("accept", "reject", "error")
MISSING = "no result"

# One colour per class, consistent across plots (matches the severities in report.css).
CLASS_COLOURS = {
    "py_permissive": "#d62728",
    "py_stricter": "#ff7f0e",
    "both_reject_different": "#bcbd22",
    "tool_error": "#8c564b",
    "not_modelled": "#7f7f7f",
    "both_reject_same": "#1f77b4",
    "both_accept": "#2ca02c",
}


@dataclass(frozen=True)
class Plot:
    file: str  # relative to the report directory
    title: str
    caption: str


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=100)


def _verdict_axis(values: pd.Series) -> list[str]:
    present = set(values.fillna(MISSING).astype(str))
    axis = list(VERDICT_AXIS)
    axis += sorted(present - set(axis) - {MISSING})
    if MISSING in present:
        axis.append(MISSING)
    return axis


def verdict_confusion(cmp: pd.DataFrame, path: Path) -> Plot:
    k = cmp["kernel_verdict"].fillna(MISSING).astype(str)
    p = cmp["py_verdict"].fillna(MISSING).astype(str)
    rows = _verdict_axis(cmp["kernel_verdict"])
    cols = _verdict_axis(cmp["py_verdict"])
    counts = pd.crosstab(k, p).reindex(index=rows, columns=cols, fill_value=0).to_numpy()

    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    shown = np.log1p(counts)  # so a handful of disagreements is visible next to thousands of agreements
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=max(shown.max(), 1e-9))
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("pyverifier verdict")
    ax.set_ylabel("kernel verdict")
    ax.set_title("Verdicts: kernel vs pyverifier")
    top = shown.max() or 1
    for i in range(len(rows)):
        for j in range(len(cols)):
            n = int(counts[i, j])
            ax.text(j, i, f"{n:,}", ha="center", va="center", fontsize=12,
                    color="white" if shown[i, j] > 0.6 * top else "black")
    if "reject" in rows and "accept" in cols:
        i, j = rows.index("reject"), cols.index("accept")
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=CLASS_COLOURS["py_permissive"],
                               linewidth=3 if counts[i, j] else 1.2))
    _save(fig, path)
    return Plot(
        f"plots/{path.name}",
        "Verdict confusion",
        "Programs by kernel verdict (rows) and pyverifier verdict (columns); colour is on a log scale. "
        "The outlined cell (kernel rejects, pyverifier accepts) must stay at 0.",
    )


def _loglog_scatter(cmp: pd.DataFrame, xcol: str, ycol: str, path: Path, *, title: str, xlabel: str,
                    ylabel: str) -> int:
    x = pd.to_numeric(cmp[xcol], errors="coerce")
    y = pd.to_numeric(cmp[ycol], errors="coerce")
    ok = (x > 0) & (y > 0)
    if not ok.any():
        return 0
    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    cls = cmp["class"].astype(str)
    keys = [c.key for c in classes.CLASSES] + sorted(set(cls[ok]) - set(CLASS_COLOURS))
    for key in keys:
        sel = ok & (cls == key)
        if sel.any():
            ax.scatter(x[sel], y[sel], s=14, alpha=0.7, label=f"{classes.info(key).label} ({int(sel.sum())})",
                       color=CLASS_COLOURS.get(key, "#17becf"), edgecolors="none")
    lo = float(min(x[ok].min(), y[ok].min()))
    hi = float(max(x[ok].max(), y[ok].max()))
    ax.plot([lo, hi], [lo, hi], color="#555", linewidth=0.8, linestyle="--", label="y = x")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="major", linewidth=0.4, alpha=0.5)
    ax.legend(fontsize=7, loc="upper left", framealpha=0.8)
    _save(fig, path)
    return int(ok.sum())


def insns_scatter(cmp: pd.DataFrame, path: Path) -> Plot | None:
    n = _loglog_scatter(cmp, "kernel_insns", "py_insns", path, title="Processed instructions",
                        xlabel="kernel: insns processed", ylabel="pyverifier: insns processed")
    if not n:
        return None
    return Plot(f"plots/{path.name}", "Processed instructions",
                f"{n:,} programs with a count from both verifiers. On the diagonal, both explored the same "
                "number of instructions; above it, pyverifier explored more (weaker pruning).")


def time_scatter(cmp: pd.DataFrame, path: Path) -> Plot | None:
    n = _loglog_scatter(cmp, "kernel_us", "py_us", path, title="Verification time",
                        xlabel="kernel: verification time (µs)", ylabel="pyverifier: verification time (µs)")
    if not n:
        return None
    return Plot(f"plots/{path.name}", "Verification time",
                f"{n:,} programs timed by both verifiers (mean over repetitions).")


SIZE_ORDER = ("simple", "medium", "complex", "maximum")


def time_ratio_by_size(cmp: pd.DataFrame, path: Path) -> Plot | None:
    """Box plot of pyverifier time / kernel time per program, one box per size class."""
    if not {"kernel_us", "py_us", "size_class"} <= set(cmp.columns):
        return None
    k = pd.to_numeric(cmp["kernel_us"], errors="coerce")
    p = pd.to_numeric(cmp["py_us"], errors="coerce")
    ratio = (p / k.where(k > 0)).replace([np.inf, -np.inf], np.nan)
    groups = [(sc, ratio[(cmp["size_class"] == sc) & ratio.notna()].to_numpy()) for sc in SIZE_ORDER]
    groups = [(sc, r) for sc, r in groups if len(r)]
    if not groups:
        return None
    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ax.boxplot([r for _, r in groups], showfliers=True)
    ax.set_xticks(range(1, len(groups) + 1), [f"{sc}\n({len(r):,})" for sc, r in groups])
    ax.set_yscale("log")
    ax.axhline(1.0, color="#888", linestyle="--", linewidth=1)
    ax.set_ylabel("pyverifier time / kernel time")
    ax.set_title("Time ratio by size class")
    _save(fig, path)
    medians = ", ".join(f"{sc} {np.median(r):.1f}×" for sc, r in groups)
    return Plot(f"plots/{path.name}", "Time ratio by size class",
                f"Per program, pyverifier's time over the kernel's (both means over repetitions); medians: {medians}. "
                "Below the dashed line pyverifier is faster.")


def states_by_size(cmp: pd.DataFrame, path: Path) -> Plot | None:
    """Explored states (total_states) summed per size class, kernel beside pyverifier, programs both accept."""
    need = {"kernel_total_states", "py_total_states", "size_class", "kernel_verdict", "py_verdict"}
    if not need <= set(cmp.columns):
        return None
    both = cmp[(cmp["kernel_verdict"] == "accept") & (cmp["py_verdict"] == "accept")]
    rows = []
    for sc in SIZE_ORDER:
        part = both[both["size_class"] == sc]
        if len(part):
            rows.append((sc, pd.to_numeric(part["kernel_total_states"], errors="coerce").sum(),
                         pd.to_numeric(part["py_total_states"], errors="coerce").sum(), len(part)))
    if not rows or not any(k or p for _, k, p, _ in rows):
        return None
    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r[1] for r in rows], width=0.4, label="kernel", color="#1f77b4")
    ax.bar(x + 0.2, [r[2] for r in rows], width=0.4, label="pyverifier", color="#ff7f0e")
    ax.set_xticks(x, [f"{sc}\n({n:,})" for sc, _, _, n in rows])
    ax.set_ylabel("explored states (total_states), summed")
    ax.set_title("States kept for pruning, by size class")
    ax.legend()
    _save(fig, path)
    return Plot(f"plots/{path.name}", "States kept for pruning",
                "Programs both verifiers accept: the states each verifier kept at prune points (its "
                "total_states), summed per size class. Equal bars mean equal pruning.")


def draw_all(cmp: pd.DataFrame, plots_dir: Path) -> list[Plot]:
    """Every plot the data allows; a plot without data is left out (and an old file of it removed)."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    out = [verdict_confusion(cmp, plots_dir / "verdicts.png")]
    for fn, name in ((insns_scatter, "insns.png"), (time_scatter, "time.png"),
                     (time_ratio_by_size, "time_ratio.png"), (states_by_size, "states.png")):
        p = fn(cmp, plots_dir / name)
        if p is not None:
            out.append(p)
        else:
            (plots_dir / name).unlink(missing_ok=True)
    return out
