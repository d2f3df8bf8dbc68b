"""The benchmark page: ``bench.html`` and its plots from a bench.json document (``compare.bench``)."""
from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import fmt

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
PLOTS_DIR = "bench_plots"

KERNEL_COLOUR = "#1f77b4"
PY_COLOUR = "#ff7f0e"
RUST_COLOUR = "#2ca02c"
SIZE_COLOURS = {"simple": "#2ca02c", "medium": "#1f77b4", "complex": "#ff7f0e", "maximum": "#d62728"}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # program ids and messages come from the corpus: untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt.num, usec=fmt.usec, nbytes=fmt.nbytes, ratio=_ratio, pct=_pct, nsec=_nsec)
    return env


def _ratio(v: Any) -> str:
    if fmt.is_missing(v):
        return "–"
    return f"{v:.2f}×" if v < 100 else f"{v:,.0f}×"


def _pct(v: Any) -> str:
    return "–" if fmt.is_missing(v) else f"{v:,.0f}%"


def _nsec(v: Any) -> str:
    return "–" if fmt.is_missing(v) else fmt.usec(float(v) / 1000.0)


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=100)


def _positive(v: Any) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v <= 0:
        return None
    return float(v)


def plot_time_groups(groups: dict, names: list[str], path: Path, title: str, rust: dict | None = None) -> bool:
    """Grouped bars of the kernel's and pyverifier's median time per group (log scale)."""
    shown = [n for n in names if groups.get(n, {}).get("programs")]
    if not shown:
        return False
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(shown))
    w = 0.38
    k = [_positive(groups[n]["kernel_us"]["median"]) or np.nan for n in shown]
    p = [_positive(groups[n]["py_us"]["median"]) or np.nan for n in shown]
    ax.bar(x - w / 2, k, w, label="kernel", color=KERNEL_COLOUR)
    ax.bar(x + w / 2, p, w, label="pyverifier", color=PY_COLOUR)
    if rust:
        first = True
        for i, n in enumerate(shown):
            if n in rust:
                ax.hlines(rust[n]["rust_us"], i - 0.45, i + 0.45, colors=RUST_COLOUR, linestyles="--",
                          label="Rust verifier (seed)" if first else None)
                first = False
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{n}\n({groups[n]['programs']})" for n in shown])
    ax.set_ylabel("median verification time (µs)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def plot_scatter(per_program: list[dict], path: Path) -> bool:
    pts = [(r["kernel_us"]["median"], r["py_us"]["median"], r["size_class"]) for r in per_program
           if _positive(r["kernel_us"].get("median")) and _positive(r["py_us"].get("median"))]
    if not pts:
        return False
    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for sc, colour in SIZE_COLOURS.items():
        xs = [a for a, _, s in pts if s == sc]
        ys = [b for _, b, s in pts if s == sc]
        if xs:
            ax.scatter(xs, ys, s=14, color=colour, label=sc, alpha=0.8)
    lo = min(min(a for a, _, _ in pts), min(b for _, b, _ in pts))
    hi = max(max(a for a, _, _ in pts), max(b for _, b, _ in pts))
    line = np.array([lo / 2, hi * 2])
    ax.plot(line, line, color="#666", lw=1, label="same time")
    ax.plot(line, 3 * line, color="#999", lw=1, ls="--", label="3× kernel (target)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("kernel verification time (µs, median)")
    ax.set_ylabel("pyverifier time (µs, median)")
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def plot_micro(micro: list[dict], path: Path) -> bool:
    rows = [m for m in micro if m.get("available")]
    if not rows:
        return False
    fig = Figure(figsize=(6.4, 0.25 * len(rows) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    ax.barh(y, [m["ns"]["median"] / 1000 for m in rows], color=PY_COLOUR,
            xerr=[[0] * len(rows), [max(0.0, (m["ns"]["p95"] - m["ns"]["median"]) / 1000) for m in rows]])
    ax.set_yticks(y, [f"{m['group']}: {m['name']}" for m in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per call (median; whisker to P95)")
    _save(fig, path)
    return True


def plot_memory(programs: list[dict], fit: dict, path: Path) -> bool:
    pts = [(r["insn_count"], (r.get("pyverifier") or {}).get("peak_states"), r["memory"]["peak_bytes"])
           for r in programs if (r.get("memory") or {}).get("peak_bytes")
           and (r.get("pyverifier") or {}).get("peak_states") is not None]
    if not pts or fit.get("intercept") is None:
        return False
    c = fit["coef"]
    pred = [fit["intercept"] + n * c["insns"] + s * c["states"] for n, s, _ in pts]
    fig = Figure(figsize=(5.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    sc = ax.scatter([p[2] / 1024 for p in pts], [max(v, 1) / 1024 for v in pred], c=[p[1] for p in pts], s=16,
                    cmap="viridis")
    fig.colorbar(sc, ax=ax, label="peak states")
    lo = max(min(min(p[2] for p in pts), min(pred)) / 1024, 0.1)
    hi = max(max(p[2] for p in pts), max(pred)) / 1024
    ax.plot([lo, hi], [lo, hi], color="#666", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured peak (KiB)")
    ax.set_ylabel("formula (KiB)")
    ax.set_title(fit.get("formula", ""), fontsize=8)
    _save(fig, path)
    return True


def plot_pruning(pruning: dict, path: Path) -> bool:
    shown = [sc for sc, g in pruning.items() if g.get("programs")]
    if not shown:
        return False
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(shown))
    w = 0.2
    series = [("kernel states", "kernel", "total_states", KERNEL_COLOUR, None),
              ("kernel pruned", "kernel", "pruned", KERNEL_COLOUR, "//"),
              ("pyverifier states", "py", "total_states", PY_COLOUR, None),
              ("pyverifier pruned", "py", "pruned", PY_COLOUR, "//")]
    for i, (label, side, key, colour, hatch) in enumerate(series):
        vals = [(pruning[sc][side].get(key) or 0) for sc in shown]
        ax.bar(x + (i - 1.5) * w, vals, w, label=label, color=colour if not hatch else "white",
               edgecolor=colour, hatch=hatch)
    ax.set_xticks(x, shown)
    ax.set_ylabel("count (sum over programs)")
    ax.set_yscale("symlog")
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def render(out_dir: Path, doc: dict) -> Path:
    """Write ``out_dir/bench.html`` (and ``bench_plots/*.png``, ``static/``) for ``doc``; return its path."""
    out_dir = Path(out_dir)
    plots_dir = out_dir / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STATIC_DIR, out_dir / "static", dirs_exist_ok=True)
    from compare.bench_aggregate import INSN_TYPE_GROUPS
    from compare.classify import SIZE_CLASSES

    plots = []

    def add(name: str, title: str, caption: str, ok: bool) -> None:
        if ok:
            plots.append({"file": f"{PLOTS_DIR}/{name}", "title": title, "caption": caption})

    add("time_by_size.png", "Verification time by size class",
        "Median of the per-program medians; the dashed lines are the seed's Rust verifier figures.",
        plot_time_groups(doc["time_by_size_class"], list(SIZE_CLASSES), plots_dir / "time_by_size.png",
                         "by size class (programs)", doc.get("rust_bar")))
    add("scatter.png", "Each program: pyverifier against the kernel",
        "Points above the solid line are slower in pyverifier; the dashed line is the 3× target.",
        plot_scatter(doc.get("per_program") or [], plots_dir / "scatter.png"))
    add("time_by_insn_type.png", "Verification time by instruction type",
        "Programs grouped by their corpus tags; a program can be in several groups.",
        plot_time_groups(doc["time_by_insn_type"]["groups"], [g for g, _ in INSN_TYPE_GROUPS],
                         plots_dir / "time_by_insn_type.png", "by instruction type (programs)"))
    add("micro.png", "Core operations", "pyverifier, time per call.",
        plot_micro(doc.get("micro") or [], plots_dir / "micro.png"))
    add("memory.png", "Memory formula", "Each program's measured peak against the fitted formula.",
        plot_memory(doc.get("programs") or [], (doc.get("memory") or {}).get("fit") or {}, plots_dir / "memory.png"))
    add("pruning.png", "Pruning", "States kept as checkpoints and paths pruned, summed per size class.",
        plot_pruning(doc.get("pruning") or {}, plots_dir / "pruning.png"))

    tpl = _env().get_template("bench.html")
    html = tpl.render(
        title="verifier-diff bench",
        doc=doc,
        plots=plots,
        size_classes=list(SIZE_CLASSES),
        insn_groups=[g for g, _ in INSN_TYPE_GROUPS],
        root="",
        home="bench.html",
    )
    path = out_dir / "bench.html"
    path.write_text(html, encoding="utf-8")
    return path
