"""HTML reports of a run directory: ``reports.render(run_dir) -> Path`` of report/index.html.

``reports.paths`` (``safe_name``) is importable without pulling in pandas,
matplotlib or jinja2; ``render`` loads them on first use.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["render"]


def render(run_dir: Path, **kwargs) -> Path:
    """Write ``run_dir/report/`` and return the path of its index.html (see reports.pages.render)."""
    from .pages import render as _render

    return _render(run_dir, **kwargs)
