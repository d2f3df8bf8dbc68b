"""The HTML pages of a run: report/index.html, one page per program, plots, static files."""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from pyverifier import uapi
from pyverifier.program import Program

from compare.classify import extra_kernel_kinds
from compare.divergence import mark_differing, split_at_line

from . import classes, fmt, listing, plots
from .paths import REPORT_DIR, safe_name
from .rundata import RunData, load_run, records

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

LOG_LIMIT_BYTES = 256 * 1024  # per log on a program page; the rest stays in the linked full log

# Per-verifier statistics shown on a program page: (result column, label, formatter, compared).
# ``compared``: a difference between verifiers is highlighted (timings always differ, so they are not).
STATS: tuple[tuple[str, str, str, bool], ...] = (
    ("verdict", "verdict", "text", True),
    ("errno", "errno", "text", True),
    ("message", "message", "text", True),
    ("privileged", "privileged", "text", False),
    ("insns_processed", "insns processed", "num", True),
    ("total_states", "total states", "num", True),
    ("peak_states", "peak states", "num", True),
    ("max_states_per_insn", "max states per insn", "num", True),
    ("mark_read", "mark_read", "num", True),
    ("stack_depth", "stack depth", "text", True),
    ("verify_us_mean", "verification time, mean", "usec", False),
    ("verify_us_std", "verification time, std dev", "usec", False),
    ("verify_us_p95", "verification time, p95", "usec", False),
    ("verify_us", "verification time, each run (µs)", "list", False),
    ("wall_us", "wall time", "usec", False),
    ("mem_peak_bytes", "peak memory", "bytes", False),
)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its name: program names and logs are untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt.num, usec=fmt.usec, nbytes=fmt.nbytes, sortval=fmt.sortval)
    env.globals.update(class_info=classes.info, class_order=classes.order)
    return env


# ---------------------------------------------------------------------------------------------
# index


def _duration(meta: dict[str, Any]) -> str:
    try:
        secs = (datetime.fromisoformat(meta["finished"]) - datetime.fromisoformat(meta["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return ""
    m, s = divmod(int(round(secs)), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{secs:.1f} s"


def _env_items(meta: dict[str, Any]) -> list[tuple[str, str]]:
    host = meta.get("host") or {}
    items = [
        ("host", host.get("hostname")),
        ("CPU", " × ".join(str(x) for x in (host.get("cpu_count"), host.get("cpu_model")) if x)),
        ("memory", fmt.nbytes(host["mem_total_bytes"]) if host.get("mem_total_bytes") else None),
        ("kernel", host.get("kernel_release")),
        ("OS", host.get("os")),
        ("Python", meta.get("python")),
        ("corpus", meta.get("corpus")),
        ("programs", fmt.num(meta["program_count"]) if meta.get("program_count") is not None else None),
        ("repetitions", meta.get("repeat")),
        ("verifiers", ", ".join(meta.get("verifiers") or ())),
        ("started", meta.get("started")),
        ("finished", meta.get("finished")),
        ("duration", _duration(meta)),
    ]
    return [(k, str(v)) for k, v in items if v not in (None, "")]


def _page_names(ids: list[str]) -> dict[str, str]:
    """A distinct file stem per program id (``safe_name``, disambiguated when two ids collide)."""
    by_stem: dict[str, list[str]] = {}
    for pid in ids:
        by_stem.setdefault(safe_name(pid), []).append(pid)
    out = {}
    for stem, pids in by_stem.items():
        if len(pids) == 1:
            out[pids[0]] = stem
        else:
            for pid in pids:
                out[pid] = f"{stem}-{hashlib.sha1(pid.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return out


def _title(message: Any, limit: int = 300) -> str:
    if not message:
        return ""
    s = str(message)
    return s if len(s) <= limit else s[:limit] + "…"


@dataclass
class IndexRow:
    id: str
    page: str
    name: str
    source: str
    prog_type: str
    tags: str
    size_class: str
    expect_verdict: str
    kernel_verdict: str
    py_verdict: str
    kernel_title: str
    py_title: str
    cls: str
    kernel_insns: Any
    py_insns: Any
    kernel_us: Any
    py_us: Any
    others: tuple[tuple[str, str], ...] = ()  # (verdict, message) per extra kernel, in ``extra_kernels`` order


def _s(v: Any) -> str:
    return "" if fmt.is_missing(v) else str(v)


def _tags(v: Any) -> str:
    """Tags as one comma-separated string (compare/ writes a string; a list is accepted too)."""
    if isinstance(v, str) or fmt.is_missing(v):
        return _s(v)
    try:
        return ",".join(str(t) for t in v)
    except TypeError:
        return str(v)


def _index_rows(cmp_records: list[dict[str, Any]], pages: dict[str, str], others: list[str] = ()) -> list[IndexRow]:
    rows = [
        IndexRow(
            id=str(r["program_id"]),
            page=pages[str(r["program_id"])],
            name=_s(r.get("name")) or str(r["program_id"]),
            source=_s(r.get("source")),
            prog_type=_s(r.get("prog_type")),
            tags=_tags(r.get("tags")),
            size_class=_s(r.get("size_class")),
            expect_verdict=_s(r.get("expect_verdict")),
            kernel_verdict=_s(r.get("kernel_verdict")),
            py_verdict=_s(r.get("py_verdict")),
            kernel_title=_title(r.get("kernel_message")),
            py_title=_title(r.get("py_message")),
            cls=_s(r.get("class")),
            kernel_insns=r.get("kernel_insns"),
            py_insns=r.get("py_insns"),
            kernel_us=r.get("kernel_us"),
            py_us=r.get("py_us"),
            others=tuple((_s(r.get(f"{k}_verdict")), _title(r.get(f"{k}_message"))) for k in others),
        )
        for r in cmp_records
    ]
    rows.sort(key=lambda x: (classes.order(x.cls), x.name, x.id))
    return rows


def _summary(rows: list[IndexRow]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.cls] = counts.get(r.cls, 0) + 1
    keys = [c.key for c in classes.CLASSES] + sorted(k for k in counts if classes.order(k) == len(classes.CLASSES))
    total = len(rows)
    agree = counts.get("both_accept", 0) + counts.get("both_reject_same", 0)
    same_verdict = sum(1 for r in rows if r.kernel_verdict and r.kernel_verdict == r.py_verdict)
    with_expect = [r for r in rows if r.expect_verdict]
    return {
        "total": total,
        "classes": [(classes.info(k), counts.get(k, 0)) for k in keys],
        "agree": agree,
        "same_verdict": same_verdict,
        "with_expect": len(with_expect),
        "kernel_unexpected": sum(1 for r in with_expect if r.kernel_verdict != r.expect_verdict),
        "py_unexpected": sum(1 for r in with_expect if r.py_verdict != r.expect_verdict),
    }


def _distinct(rows: list[IndexRow], attr: str) -> list[str]:
    return sorted({getattr(r, attr) for r in rows})


# ---------------------------------------------------------------------------------------------
# program pages


@dataclass
class LogView:
    verifier: str
    text: str
    href: str  # link to the full log file, relative to the program page ("" when there is none)
    note: str  # why the text is partial or absent
    # the first divergence split out of ``text`` (before, line, after), when it is shown
    div: tuple[str, str, str] | None = None
    anchor: str = ""


def _divergence(crow: dict[str, Any]) -> dict[str, Any] | None:
    line = crow.get("div_line")
    if fmt.is_missing(line):
        return None
    keys = [k for k in _s(crow.get("div_keys")).split(",") if k]
    return {
        "kernel_pieces": mark_differing(_s(crow.get("div_kernel_line")), keys),
        "py_pieces": mark_differing(_s(crow.get("div_py_line")), keys),
        "line": int(line),
        "insn": None if fmt.is_missing(crow.get("div_insn")) else int(crow["div_insn"]),
        "kernel": _s(crow.get("div_kernel_line")) or "(the kernel's log ends here)",
        "py": _s(crow.get("div_py_line")) or "(pyverifier's log ends here)",
        "differing": _s(crow.get("div_keys")),
        "signature": _s(crow.get("signature")),
    }


def _read_log(run_dir: Path, rel: Any, limit: int) -> tuple[str, str, str]:
    """(text, href from report/programs/, note)."""
    if not rel:
        return "", "", "no log recorded"
    path = (run_dir / str(rel)).resolve()
    if not path.is_relative_to(run_dir.resolve()):
        return "", "", f"log path {rel!r} points outside the run directory; not shown"
    href = "../../" + Path(str(rel)).as_posix()
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if size <= limit:
                return f.read().decode("utf-8", "replace"), href, ""
            half = limit // 2
            head = f.read(half)
            f.seek(size - half)
            tail = f.read(half)
    except OSError as e:
        return "", "", f"log not readable: {e.strerror or e}"
    head = head[: head.rfind(b"\n") + 1] or head
    nl = tail.find(b"\n")
    tail = tail[nl + 1 :] if nl >= 0 else tail
    omitted = size - len(head) - len(tail)
    text = (
        head.decode("utf-8", "replace")
        + f"\n[… {omitted:,} bytes ({fmt.nbytes(omitted)}) omitted: open the full log …]\n\n"
        + tail.decode("utf-8", "replace")
    )
    return text, href, f"{fmt.nbytes(size)}: start and end shown"


def _stat_cell(value: Any, kind: str) -> str:
    if fmt.is_missing(value) or value == "":
        return "–"
    if kind == "num":
        return fmt.num(value)
    if kind == "usec":
        return fmt.usec(value)
    if kind == "bytes":
        return fmt.nbytes(value)
    if kind == "list":
        try:
            vals = json.loads(value) if isinstance(value, str) else list(value)
            return ", ".join(f"{float(v):.0f}" for v in vals) or "–"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _stats_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for col, label, kind, compared in STATS:
        if not any(col in r for r in results):
            continue
        cells = [_stat_cell(r.get(col), kind) for r in results]
        out.append({"label": label, "cells": cells, "differs": compared and len(set(cells)) > 1, "key": col})
    return out


def _program_meta(p: Program | None, crow: dict[str, Any]) -> list[tuple[str, str]]:
    items: list[tuple[str, Any]] = [("id", crow["program_id"])]
    if p is not None:
        eat = uapi.attach_type_name(p.expected_attach_type) if p.expected_attach_type is not None else None
        flags = [name for name, bit in uapi.PROG_FLAGS.items() if p.prog_flags & bit]
        items += [
            ("name", p.name),
            ("source", p.source),
            ("program type", uapi.prog_type_name(p.prog_type)),
            ("expected attach type", eat),
            ("attach to", p.attach_to),
            ("flags", ", ".join(flags) or (hex(p.prog_flags) if p.prog_flags else None)),
            ("license", p.license),
            ("instructions", fmt.num(p.insn_count)),
            ("size class", _s(crow.get("size_class"))),
            ("tags", ", ".join(p.tags)),
        ]
    else:
        items += [
            ("name", crow.get("name")),
            ("source", crow.get("source")),
            ("program type", crow.get("prog_type")),
            ("instructions", fmt.num(crow.get("insn_count"))),
            ("size class", crow.get("size_class")),
            ("tags", _tags(crow.get("tags"))),
        ]
    return [(k, str(v)) for k, v in items if not fmt.is_missing(v) and v != ""]


def _maps(p: Program | None) -> list[dict[str, Any]]:
    if p is None:
        return []
    out = []
    for i, m in enumerate(p.maps):
        out.append(
            {
                "index": i,
                "name": m.name,
                "type": uapi.map_type_name(m.type),
                "key_size": m.key_size,
                "value_size": m.value_size,
                "max_entries": m.max_entries,
                "flags": hex(m.flags) if m.flags else "",
                "extra": ", ".join(
                    x
                    for x in (
                        f"inner: {uapi.map_type_name(m.inner.type)}" if m.inner is not None else "",
                        f"init: {len(m.init)} bytes" if m.init is not None else "",
                        "frozen" if m.frozen else "",
                    )
                    if x
                ),
            }
        )
    return out


def _expect(p: Program | None, crow: dict[str, Any]) -> list[tuple[str, str]]:
    if p is None:
        v = _s(crow.get("expect_verdict"))
        return [("verdict", v)] if v else []
    out = []
    if p.expect.verdict:
        out.append(("verdict", p.expect.verdict))
    if p.expect.message:
        out.append(("message", p.expect.message))
    for k, v in p.expect.extra.items():
        out.append((k, v if isinstance(v, str) else json.dumps(v)))
    return out


def _expect_checks(p: Program | None, crow: dict[str, Any], results: list[dict[str, Any]],
                   logs: list[LogView]) -> list[dict[str, Any]]:
    """Per verifier: does its verdict match the expected verdict (and its log contain the expected text)?"""
    verdict = p.expect.verdict if p is not None else _s(crow.get("expect_verdict")) or None
    if not verdict:
        return []
    message = p.expect.message if p is not None else None
    out = []
    for r, log in zip(results, logs):
        ok = r.get("verdict") == verdict
        detail = f"{_s(r.get('verdict')) or 'no verdict'}"
        unchecked = False
        if ok and message and verdict == "reject":
            found = message in log.text or message in _s(r.get("message"))
            if not found and _stats_only(r):
                # a statistics-only log (a QEMU kernel at log level 4) has the verifier's messages but no
                # trace, where the text may be: neither a pass nor a failure
                unchecked = True
                detail += ("; the expected text is not among its messages, and a statistics-only log "
                           "(log level 4) has no trace to look in")
            elif not found:
                ok = False
                detail += ", but the log does not contain the expected message"
        out.append({"verifier": _s(r.get("verifier")), "ok": ok, "detail": detail, "unchecked": unchecked})
    return out


STATS_ONLY_LOG_LEVEL = 4  # BPF_LOG_STATS alone: what the QEMU kernels of --kernels load at by default


def _stats_only(r: dict[str, Any]) -> bool:
    """Whether a result's log was asked at log level 4: the verifier's messages and statistics, no trace."""
    level = r.get("log_level")
    return not fmt.is_missing(level) and int(level) == STATS_ONLY_LOG_LEVEL


def _verifier_order(meta: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {v: i for i, v in enumerate(meta.get("verifiers") or ())}
    kinds = {"kernel": 0, "pyverifier": 1}
    return sorted(
        results,
        key=lambda r: (order.get(r.get("verifier"), len(order)), kinds.get(r.get("verifier_kind"), 2), str(r.get("verifier"))),
    )


# ---------------------------------------------------------------------------------------------


def render(run_dir: Path, *, log_limit_bytes: int = LOG_LIMIT_BYTES,
           listing_limit: int = listing.LISTING_LIMIT) -> Path:
    """Write ``run_dir/report/`` (index.html, programs/*.html, plots/*.png, static/*); return the index path.

    A program page shows at most ``log_limit_bytes`` of each log and ``listing_limit``
    instructions (start and end of longer ones); the full logs are linked.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    out = run_dir / REPORT_DIR
    pages_dir = out / "programs"
    pages_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STATIC_DIR, out / "static", dirs_exist_ok=True)

    cmp_records = records(run.comparison)
    pages = _page_names([str(r["program_id"]) for r in cmp_records])
    others = extra_kernel_kinds(run.comparison)
    rows = _index_rows(cmp_records, pages, others)
    plot_list = plots.draw_all(run.comparison, out / "plots")
    env = environment()

    listed = set(pages)
    missing_results = [pid for pid in run.programs if pid not in listed]
    index_path = out / "index.html"
    index_path.write_text(
        env.get_template("index.html").render(
            root="",
            title=f"verifier-diff: {run_dir.name}",
            run_name=run_dir.name,
            env_items=_env_items(run.meta),
            packages=sorted((run.meta.get("packages") or {}).items()),
            options=[(k, v if isinstance(v, str) else json.dumps(v)) for k, v in (run.meta.get("options") or {}).items()],
            summary=_summary(rows),
            triage=_triage_groups(rows, cmp_records),
            by_size=_by_size(run.meta),
            breakdowns=_breakdowns(rows),
            repeat=run.meta.get("repeat", 1),
            plots=plot_list,
            rows=rows,
            extra_kernels=[_kernel_label(run.meta, k) for k in others],
            filters=[
                ("class", "class", [(k, classes.info(k).label) for k in sorted(_distinct(rows, "cls"), key=classes.order)]),
                ("kernel", "kernel verdict", [(v, v or "(none)") for v in _distinct(rows, "kernel_verdict")]),
                ("py", "pyverifier verdict", [(v, v or "(none)") for v in _distinct(rows, "py_verdict")]),
                ("size", "size", [(v, v or "(none)") for v in _distinct(rows, "size_class")]),
                ("type", "type", [(v, v or "(none)") for v in _distinct(rows, "prog_type")]),
                ("source", "source", [(v, v or "(none)") for v in _distinct(rows, "source")]),
            ],
            exports=[name for name in ("comparison.csv", "results.csv", "comparison.parquet", "results.parquet",
                                        "run.json", "programs.jsonl") if (run_dir / name).exists()],
            missing_results=missing_results,
            bad_program_lines=run.bad_program_lines,
        ),
        encoding="utf-8",
    )

    _render_triage(env, run_dir, rows, cmp_records, out / "triage.html")
    _render_program_pages(env, run, rows, cmp_records, pages_dir, log_limit_bytes, listing_limit)
    return index_path


BREAKDOWN_ROWS = 25  # values shown per dimension, most programs first


def _breakdowns(rows: list[IndexRow]) -> list[dict[str, Any]]:
    """Class counts by source, program type and tag (a program counts once under each of its tags)."""
    dims = (("source", lambda r: [r.source]), ("program type", lambda r: [r.prog_type]),
            ("tag", lambda r: [t for t in r.tags.split(",") if t] if r.tags else []))
    present = sorted({r.cls for r in rows}, key=classes.order)
    out = []
    for title, values in dims:
        counts: dict[str, dict[str, int]] = {}
        for r in rows:
            for v in values(r):
                c = counts.setdefault(v or "(none)", {})
                c[r.cls] = c.get(r.cls, 0) + 1
        table = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        out.append({
            "title": title,
            "classes": present,
            "rows": [(v, sum(c.values()), [c.get(k, 0) for k in present]) for v, c in table[:BREAKDOWN_ROWS]],
            "more": max(0, len(table) - BREAKDOWN_ROWS),
        })
    return out


def _kernel_label(meta: dict[str, Any], kind: str) -> str:
    """Column heading of a matrix kernel: its release when the run recorded it."""
    if kind == "kernel_unpriv":
        return "kernel, unprivileged"
    release = ((meta.get("kernel_matrix") or {}).get(kind) or {}).get("release")
    return release or kind


def _by_size(meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    summary = meta.get("summary") or {}
    out = list((summary.get("by_size_class") or {}).items())
    if summary.get("all"):
        out.append(("all", summary["all"]))
    return out


TRIAGE_EXAMPLES = 12


def _triage_groups(rows: list[IndexRow], cmp_records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Programs with differing logs grouped by signature: (groups, count of identical logs)."""
    crow = {str(r["program_id"]): r for r in cmp_records}
    groups: dict[str, dict[str, Any]] = {}
    identical = 0
    for row in rows:
        c = crow[row.id]
        if not fmt.is_missing(c.get("logs_identical")) and bool(c.get("logs_identical")):
            identical += 1
            continue
        sig = _s(c.get("signature")) or "(no signature: logs missing)"
        g = groups.setdefault(sig, {"signature": sig, "count": 0, "classes": {}, "examples": [], "permissive": False})
        g["count"] += 1
        g["classes"][row.cls] = g["classes"].get(row.cls, 0) + 1
        g["permissive"] |= row.cls == "py_permissive"
        if len(g["examples"]) < TRIAGE_EXAMPLES:
            g["examples"].append(row)
    out = sorted(groups.values(), key=lambda g: (not g["permissive"], -g["count"], g["signature"]))
    for g in out:
        g["classes"] = sorted(g["classes"].items(), key=lambda kv: classes.order(kv[0]))
    return out, identical


def _render_triage(env: jinja2.Environment, run_dir: Path, rows: list[IndexRow],
                   cmp_records: list[dict[str, Any]], path: Path) -> None:
    groups, identical = _triage_groups(rows, cmp_records)
    path.write_text(
        env.get_template("triage.html").render(
            root="", title=f"triage: {run_dir.name}", run_name=run_dir.name, groups=groups,
            identical=identical, total=len(rows)),
        encoding="utf-8",
    )


def _render_program_pages(env: jinja2.Environment, run: RunData, rows: list[IndexRow],
                          cmp_records: list[dict[str, Any]], pages_dir: Path, log_limit_bytes: int,
                          listing_limit: int) -> None:
    template = env.get_template("program.html")
    wanted = {f"{row.page}.html" for row in rows}
    for old in pages_dir.glob("*.html"):  # pages of programs no longer in the run
        if old.name not in wanted:
            old.unlink()
    by_program: dict[str, list[dict[str, Any]]] = {}
    for r in records(run.results):
        by_program.setdefault(str(r["program_id"]), []).append(r)
    crow_by_id = {str(r["program_id"]): r for r in cmp_records}
    for i, row in enumerate(rows):
        crow = crow_by_id[row.id]
        program = run.programs.get(row.id)
        insns = program.decoded() if program is not None else None
        results = _verifier_order(run.meta, by_program.get(row.id, []))
        logs = []
        for r in results:
            text, href, note = _read_log(run.run_dir, r.get("log_path"), log_limit_bytes)
            if r.get("verifier_kind") == "kernel":
                text, rewritten = listing.normalized_kernel_log(text, insns)
                if rewritten:
                    note = "; ".join(x for x in (note, "kernel addresses of maps shown as map[IDX] (the full log is verbatim)") if x)
            if _stats_only(r) and text:
                note = "; ".join(x for x in (note, "statistics only (log level 4): the verifier's messages and "
                                             "statistics, no per-instruction trace (--guest-log-level 1 or 2 for "
                                             "the full log)") if x)
            view = LogView(str(r.get("verifier")), text, href, note)
            div = _divergence(crow)
            if div is not None and r.get("verifier_kind") in ("kernel", "pyverifier") and not note.startswith(("log", "no log")):
                view.div = split_at_line(text, div["line"]) if "omitted" not in note else None
                view.anchor = f"div-{r.get('verifier_kind')}"
            logs.append(view)
        html = template.render(
            root="../",
            title=f"{row.name}: verifier-diff",
            row=row,
            prev=rows[i - 1] if i > 0 else None,
            next=rows[i + 1] if i + 1 < len(rows) else None,
            meta=_program_meta(program, crow),
            maps=_maps(program),
            expect=_expect(program, crow),
            expect_checks=_expect_checks(program, crow, results, logs),
            program_found=program is not None,
            listing=listing.listing(program, insns, listing_limit) if program is not None else None,
            source_text=program.source_text if program is not None else None,
            source_lang=(program.source_lang or "") if program is not None else "",
            verifiers=[str(r.get("verifier")) for r in results],
            stats=_stats_rows(results),
            logs=logs,
            divergence=_divergence(crow),
            logs_identical=not fmt.is_missing(crow.get("logs_identical")) and bool(crow.get("logs_identical")),
        )
        (pages_dir / f"{row.page}.html").write_text(html, encoding="utf-8")
