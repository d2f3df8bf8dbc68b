"""reports/: rendering a run directory into HTML (index, program pages, plots, static files)."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest

import reports
from pyverifier import uapi
from pyverifier.insn import Insn, encode
from pyverifier.program import Expect, MapSpec, Program
from reports import listing as listing_mod
from reports.paths import log_relpath, safe_name

KERNEL = "kernel-6.18.44-test"
PY = "pyverifier-0.1.0"
XSS = "<script>alert(1)</script>"
LOG_XSS = '<script>alert("from the log")</script>'

MOV0 = Insn(0xB7, 0, 0, 0, 0)  # r0 = 0
EXIT = Insn(0x95, 0, 0, 0, 0)
LD_MAP = [Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0)]  # r1 = map[0] (ld_imm64, two slots)


def _insns(*parts) -> bytes:
    flat: list[Insn] = []
    for p in parts:
        flat.extend(p if isinstance(p, list) else [p])
    return encode(flat)


def _size_class(n: int) -> str:
    return "simple" if n < 100 else "medium" if n < 1000 else "complex" if n < 10000 else "maximum"


def _classify(k: str, p: str, km: str, pm: str) -> str:
    if p == "error":
        return "not_modelled" if pm.startswith("not modelled: ") else "tool_error"
    if k == "error":
        return "tool_error"
    if k == p == "accept":
        return "both_accept"
    if k == p == "reject":
        return "both_reject_same" if km == pm else "both_reject_different"
    return "py_stricter" if k == "accept" else "py_permissive"


# (name, kernel verdict, kernel message, py verdict, py message, insns, tags, expect, source_text)
CASES = [
    ("ret0", "accept", "", "accept", "", _insns(MOV0, EXIT), ("simple", "alu"), Expect("accept"), None),
    (XSS, "accept", "", "reject", "R0 !read_ok", _insns(EXIT), ("simple",), Expect("accept"), None),
    ("map_oob", "reject", "invalid access to map value, value_size=8 off=8 size=8", "accept", "",
     _insns(LD_MAP, MOV0, EXIT), ("simple", "map"), Expect("reject", "invalid access to map value"), None),
    ("kfunc_call", "accept", "", "error", "not modelled: kfunc calls", _insns(MOV0, EXIT), ("simple", "kfunc"),
     Expect(), None),
    ("div_by_zero", "reject", "R1 !read_ok", "reject", "R1 !read_ok", _insns(MOV0, EXIT), ("simple",),
     Expect("reject"), None),
    ("stack_oob", "reject", "invalid write to stack R10 off=-520 size=8", "reject", "invalid stack off=-520",
     _insns(MOV0, EXIT), ("simple", "memory"), Expect(), None),
    ("crashes_tool", "accept", "", "error", "ValueError: boom", _insns(MOV0, EXIT), ("simple",), Expect(), None),
    ("kernel_fails", "error", "bpf(BPF_PROG_LOAD): Operation not permitted", "accept", "", _insns(MOV0, EXIT),
     ("simple",), Expect(), None),
    ("from_c", "accept", "", "accept", "", _insns(MOV0, EXIT), ("simple", "c"), Expect(),
     "int prog(void *ctx) { return 0; } /* <b>not bold</b> */"),
]


RESULT_COLUMNS = [
    "program_id", "verifier", "verifier_kind", "privileged", "verdict", "errno", "message", "insns_processed",
    "total_states", "peak_states", "max_states_per_insn", "mark_read", "stack_depth", "verify_us_mean",
    "verify_us_std", "verify_us_p95", "verify_us", "wall_us", "mem_peak_bytes", "log_path",
]
COMPARISON_COLUMNS = [
    "program_id", "name", "source", "prog_type", "tags", "insn_count", "size_class", "expect_verdict",
    "kernel_verdict", "py_verdict", "kernel_message", "py_message", "kernel_insns", "py_insns", "kernel_us",
    "py_us", "class",
]


def make_run(root: Path, cases=CASES, n_extra: int = 0, big_log_bytes: int = 0) -> Path:
    """A run directory laid out as compare/ writes it, with realistic values."""
    run = root / "run"
    run.mkdir()
    programs, results, comparison = [], [], []
    cases = list(cases)
    for i in range(n_extra):
        k = ("accept", "reject")[i % 2]
        p = ("accept", "reject", "error")[i % 3]
        pm = "not modelled: bpf_loop" if p == "error" else ("R0 !read_ok" if p == "reject" else "")
        cases.append((f"gen_{i:05d}", k, "R0 !read_ok" if k == "reject" else "", p, pm,
                      _insns(*[MOV0] * (i % 50), EXIT), ("simple", "alu"), Expect(), None))
    for idx, (name, kv, km, pv, pm, insns, tags, expect, src) in enumerate(cases):
        prog = Program(
            id=f"builtin/{name}", source="builtin", name=name, prog_type=uapi.prog_type_num("socket_filter"),
            insns=insns, tags=tags, expect=expect, source_text=src, source_lang="c" if src else None,
            maps=(MapSpec("values", uapi.map_type_num("array"), 4, 8, 1),) if "map" in tags else (),
        )
        programs.append(prog)
        n = prog.insn_count
        stats = {}
        for verifier, kind, verdict, msg in ((KERNEL, "kernel", kv, km), (PY, "pyverifier", pv, pm)):
            rel = log_relpath(kind, prog.id)
            (run / rel).parent.mkdir(parents=True, exist_ok=True)
            body = "".join(f"{j}: (b7) r0 = 0\n" for j in range(n))
            if name == XSS:
                body += LOG_XSS + "\n"
            if big_log_bytes and idx == 0 and kind == "kernel":
                body = "FIRST LINE\n" + "x" * 100 + "\n" + ("filler line\n" * (big_log_bytes // 12)) + "LAST LINE\n"
            body += f"{msg}\n" if msg else ""
            body += f"processed {n + idx} insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n"
            (run / rel).write_text(body)
            us = [10.0 + idx + j for j in range(3)] if verdict != "error" else []
            insns_processed = None if verdict == "error" else n + idx * (2 if kind == "pyverifier" else 1)
            stats[kind] = (insns_processed, sum(us) / len(us) if us else None)
            results.append({
                "program_id": prog.id, "verifier": verifier, "verifier_kind": kind, "privileged": True,
                "verdict": verdict, "errno": 13 if verdict == "reject" else None, "message": msg,
                "insns_processed": insns_processed,
                "total_states": None if verdict == "error" else 1, "peak_states": None if verdict == "error" else 1,
                "max_states_per_insn": None if verdict == "error" else 0, "mark_read": None if verdict == "error" else 0,
                "stack_depth": "" if verdict == "error" else "8+0",
                "verify_us_mean": stats[kind][1], "verify_us_std": 1.0 if us else None,
                "verify_us_p95": max(us) if us else None, "verify_us": json.dumps(us),
                "wall_us": 50.0 + idx, "mem_peak_bytes": 4096 * (idx + 1) if kind == "pyverifier" else None,
                "log_path": rel,
            })
        comparison.append({
            "program_id": prog.id, "name": name, "source": "builtin", "prog_type": "socket_filter",
            "tags": ",".join(tags), "insn_count": n, "size_class": _size_class(n),
            "expect_verdict": expect.verdict, "kernel_verdict": kv, "py_verdict": pv,
            "kernel_message": km, "py_message": pm,
            "kernel_insns": stats["kernel"][0], "py_insns": stats["pyverifier"][0],
            "kernel_us": stats["kernel"][1], "py_us": stats["pyverifier"][1],
            "class": _classify(kv, pv, km, pm),
        })
    (run / "programs.jsonl").write_text("".join(p.to_json() + "\n" for p in programs))
    res = pd.DataFrame(results, columns=RESULT_COLUMNS)
    for col in ("errno", "insns_processed", "total_states", "peak_states", "max_states_per_insn", "mark_read",
                "mem_peak_bytes"):
        res[col] = res[col].astype("Int64")
    cmp_df = pd.DataFrame(comparison, columns=COMPARISON_COLUMNS)
    for col in ("kernel_insns", "py_insns"):
        cmp_df[col] = cmp_df[col].astype("Int64")
    for stem, df in (("results", res), ("comparison", cmp_df)):
        df.to_parquet(run / f"{stem}.parquet", index=False)
        df.to_csv(run / f"{stem}.csv", index=False)
    (run / "run.json").write_text(json.dumps({
        "started": "2025-01-01T10:00:00+00:00", "finished": "2025-01-01T10:03:25+00:00",
        "host": {"hostname": "testhost", "cpu_model": "Test CPU @ 3.0GHz", "cpu_count": 8,
                 "mem_total_bytes": 16 * 2**30, "kernel_release": "6.18.44-test", "os": "Debian GNU/Linux 12"},
        "python": "3.11.2", "packages": {"pandas": pd.__version__, "jinja2": "3.1.6"},
        "corpus": "builtin", "options": {"jobs": 4, "log_level": 2}, "repeat": 3,
        "verifiers": [KERNEL, PY], "program_count": len(programs),
    }))
    return run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def _listing(page: str) -> list[str]:
    return re.search(r'<pre class="listing">(.*?)</pre>', page, re.S).group(1).split("\n")


def _page(run: Path, name: str) -> Path:
    return run / "report" / "programs" / f"{safe_name('builtin/' + name)}.html"


# ---------------------------------------------------------------------------------------------


def test_safe_name():
    assert safe_name("builtin/ret0") == "builtin_ret0"
    assert safe_name("a b<c>.d-e_f") == "a_b_c_.d-e_f"
    assert safe_name(XSS) == "_script_alert_1___script_"
    assert safe_name("..") == "_.."
    assert safe_name("") == "_"
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    assert len(safe_name(long_a)) <= 200
    assert safe_name(long_a) != safe_name(long_b)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", safe_name("ünïcødé/→ prog"))
    assert log_relpath("kernel", "builtin/ret0") == "logs/kernel/builtin_ret0.log"


def test_render_writes_every_file(run_dir: Path):
    index = reports.render(run_dir)
    assert index == run_dir / "report" / "index.html"
    assert index.exists()
    for name, *_ in CASES:
        assert _page(run_dir, name).exists(), name
    assert (run_dir / "report" / "static" / "table.js").exists()
    assert (run_dir / "report" / "static" / "report.css").exists()
    pngs = sorted(p.name for p in (run_dir / "report" / "plots").glob("*.png"))
    assert "verdicts.png" in pngs and "insns.png" in pngs
    for png in pngs:
        assert (run_dir / "report" / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = index.read_text()
    assert html.count("<tr data-class=") == len(CASES)
    for key in ("testhost", "Test CPU @ 3.0GHz", "16.0 GiB", "6.18.44-test", "3.11.2", KERNEL, PY, "3m 25s"):
        assert key in html, key
    # every link from the index to a program page resolves
    for href in re.findall(r'href="(programs/[^"]+)"', html):
        assert (index.parent / href).exists(), href


def test_untrusted_text_is_escaped(run_dir: Path):
    index = reports.render(run_dir)
    html = index.read_text()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script\b", html)) == 1  # only static/table.js
    page = _page(run_dir, XSS).read_text()
    assert XSS not in page
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="../static/program.js">']  # ours, nothing else
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#34;from the log&#34;)&lt;/script&gt;" in page
    c_page = _page(run_dir, "from_c").read_text()
    assert "<b>not bold</b>" not in c_page and "&lt;b&gt;not bold&lt;/b&gt;" in c_page


def test_permissive_first_and_highlighted(run_dir: Path):
    html = reports.render(run_dir).read_text()
    summary = html[html.index('class="classes"'):]
    first_row = re.search(r'<tr class="cls-row ([^"]*)"', summary).group(1)
    assert "permissive" in first_row and "nonzero" in first_row
    assert re.findall(r'<tr data-class="([^"]+)"', html)[0] == "py_permissive"
    counts = {k: int(n) for n, k in re.findall(r'<td class="count">(\d+)</td>\s*<td><a href="#class=(\w+)"', summary)}
    assert counts == {"py_permissive": 1, "py_stricter": 1, "both_reject_different": 1, "tool_error": 2,
                      "not_modelled": 1, "both_reject_same": 1, "both_accept": 2}


def test_program_page_content(run_dir: Path):
    reports.render(run_dir)
    page = _page(run_dir, "map_oob").read_text()
    assert "invalid access to map value, value_size=8 off=8 size=8" in page  # kernel message and log
    assert KERNEL in page and PY in page
    assert page.count('<div class="log">') == 2
    assert 'href="../../logs/kernel/builtin_map_oob.log"' in page
    assert 'href="../index.html"' in page
    assert "values" in page and "array" in page  # the map
    assert "stat-verdict differs" in page
    assert f'class="ok">✓ {KERNEL}: reject' in page  # the expectation: reject, "invalid access to map value"
    assert f'class="bad">✗ {PY}: accept' in page
    # the ld_imm64 shows as one line of 16 bytes, whatever disassembler is used or the fallback
    assert "1811000000000000 0000000000000000" in page or "Fallback listing" in page


def test_fallback_listing_is_visible(run_dir: Path, monkeypatch):
    monkeypatch.setattr(listing_mod, "_disassembler", lambda: (None, "ImportError: no module named disasm"))
    reports.render(run_dir)
    page = _page(run_dir, "ret0").read_text()
    assert "Fallback listing" in page and "ImportError" in page
    assert _listing(page) == ["0: b700000000000000  code=0xb7 dst=r0 src=r0 off=0 imm=0",
                              "1: 9500000000000000  code=0x95 dst=r0 src=r0 off=0 imm=0"]


def test_listing_uses_disassembler(run_dir: Path, monkeypatch):
    def fake_format_line(insns, idx):
        return f"({insns[idx].code:02x}) op{insns[idx].code}"

    monkeypatch.setattr(listing_mod, "_disassembler", lambda: (fake_format_line, ""))
    reports.render(run_dir)
    page = _page(run_dir, "map_oob").read_text()
    assert "Fallback listing" not in page
    assert _listing(page) == ["0: 1811000000000000 0000000000000000  (18) op24",
                              "2: b700000000000000                   (b7) op183",
                              "3: 9500000000000000                   (95) op149"]


def test_disassembler_failure_falls_back(run_dir: Path, monkeypatch):
    def broken(insns, idx):
        raise KeyError(idx)

    monkeypatch.setattr(listing_mod, "_disassembler", lambda: (broken, ""))
    reports.render(run_dir)
    page = _page(run_dir, "ret0").read_text()
    assert "Fallback listing" in page and "failed at instruction 0" in page


def test_real_disassembler_and_kernel_log_normalized(tmp_path: Path):
    disasm = pytest.importorskip("pyverifier.disasm")
    if not hasattr(disasm, "normalize_log") or not hasattr(disasm, "format_line"):
        pytest.skip("pyverifier.disasm lacks format_line/normalize_log")
    run = make_run(tmp_path)
    log = run / log_relpath("kernel", "builtin/map_oob")
    log.write_text("0: (18) r1 = 0xffff888104a3c000\n2: (b7) r0 = 0\n" + log.read_text())
    reports.render(run)
    page = _page(run, "map_oob").read_text()
    assert "Fallback listing" not in page
    lines = _listing(page)
    assert lines[0].endswith("  (18) r1 = map[0]") and lines[-1].endswith("  (95) exit")
    assert "0xffff888104a3c000" not in page  # rewritten on the page ...
    assert "0xffff888104a3c000" in log.read_text()  # ... and the file itself is left as it was
    assert "shown as map[IDX]" in page


def test_long_listing_is_cut(tmp_path: Path):
    case = ("long",) + CASES[0][1:5] + (_insns(*[MOV0] * 30, EXIT),) + CASES[0][6:]
    run = make_run(tmp_path, cases=[case])
    reports.render(run, listing_limit=10)
    page = _page(run, "long").read_text()
    lines = _listing(page)
    assert len(lines) == 11
    assert lines[0].startswith(" 0: ") and lines[-1].startswith("30: ")
    assert "21 instructions not shown" in lines[5]
    assert "31 instructions: the first and the last 5 are shown" in page


def test_csv_fallback_and_rerender(run_dir: Path):
    reports.render(run_dir)
    (run_dir / "results.parquet").unlink()
    (run_dir / "comparison.parquet").unlink()
    html = reports.render(run_dir).read_text()
    assert html.count("<tr data-class=") == len(CASES)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_missing_comparison_is_a_clear_error(tmp_path: Path):
    from reports.rundata import RunDirError

    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="comparison"):
        reports.render(tmp_path / "empty")


def test_comparison_without_required_column_is_a_clear_error(run_dir: Path):
    from reports.rundata import RunDirError

    df = pd.read_parquet(run_dir / "comparison.parquet").drop(columns=["class"])
    df.to_parquet(run_dir / "comparison.parquet", index=False)
    with pytest.raises(RunDirError, match="class"):
        reports.render(run_dir)


def test_empty_run_renders(tmp_path: Path):
    run = make_run(tmp_path, cases=[])
    html = reports.render(run).read_text()
    assert "<strong>0</strong> programs" in html
    assert (run / "report" / "plots" / "verdicts.png").exists()
    assert not (run / "report" / "plots" / "insns.png").exists()


def test_rerender_drops_pages_of_removed_programs(run_dir: Path):
    reports.render(run_dir)
    assert _page(run_dir, "ret0").exists()
    df = pd.read_parquet(run_dir / "comparison.parquet")
    df[df["name"] != "ret0"].to_parquet(run_dir / "comparison.parquet", index=False)
    html = reports.render(run_dir).read_text()
    assert not _page(run_dir, "ret0").exists()
    assert html.count("<tr data-class=") == len(CASES) - 1
    assert "1 programs of programs.jsonl have no comparison row" in html


def test_big_log_is_cut_with_link(tmp_path: Path):
    run = make_run(tmp_path, big_log_bytes=2_000_000)
    reports.render(run, log_limit_bytes=64 * 1024)
    page = _page(run, "ret0").read_text()
    assert "FIRST LINE" in page and "LAST LINE" in page
    assert "bytes (" in page and "omitted" in page
    assert len(page) < 200_000


def test_log_path_outside_run_is_not_read(run_dir: Path):
    res = pd.read_parquet(run_dir / "results.parquet")
    secret = run_dir.parent / "secret.txt"
    secret.write_text("TOP SECRET CONTENT")
    res.loc[0, "log_path"] = "../secret.txt"
    res.to_parquet(run_dir / "results.parquet", index=False)
    reports.render(run_dir)
    page = _page(run_dir, CASES[0][0]).read_text()
    assert "TOP SECRET CONTENT" not in page
    assert "outside the run directory" in page


def test_colliding_safe_names_get_distinct_pages(tmp_path: Path):
    a = ("a b",) + CASES[0][1:]
    b = ("a_b",) + CASES[0][1:]
    run = make_run(tmp_path, cases=[a, b])
    html = reports.render(run).read_text()
    hrefs = re.findall(r'href="(programs/[^"]+)"', html)
    assert len(set(hrefs)) == 2
    for h in hrefs:
        assert (run / "report" / h).exists()


def test_two_thousand_programs_render_fast(tmp_path: Path):
    run = make_run(tmp_path, n_extra=2000)
    t0 = time.perf_counter()
    index = reports.render(run)
    elapsed = time.perf_counter() - t0
    assert len(list((run / "report" / "programs").glob("*.html"))) == 2000 + len(CASES)
    assert elapsed < 20, f"rendering 2008 programs took {elapsed:.1f} s"
    assert index.stat().st_size < 3_000_000  # the index carries the table, nothing more


# ---------------------------------------------------------------------------------------------

from browser import CHROMIUM, programs_tbody as _programs_tbody, run_chromium as _chromium, save_artifact  # noqa: E402


@pytest.mark.chromium
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"headless Chromium not installed at {CHROMIUM}")
def test_index_in_headless_chromium(tmp_path: Path):
    run = make_run(tmp_path, n_extra=40)
    index = reports.render(run)

    shot = tmp_path / "index.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", index.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    save_artifact(shot, "report-index.png")

    r = _chromium(tmp_path, "--dump-dom", index.as_uri())
    dom = r.stdout
    assert 'data-ready="1"' in dom, "table.js did not run"
    body = _programs_tbody(dom)
    rows = re.findall(r"<tr [^>]*>", body)
    assert len(rows) == len(CASES) + 40
    assert not any("hidden" in tr for tr in rows)
    assert 'class="v v-accept"' in body and 'class="v v-reject"' in body and 'class="v v-error"' in body
    assert ">kernel</th>" in dom and ">pyverifier</th>" in dom
    assert "<script>alert(1)</script>" not in body

    # a class filter in the URL fragment hides every other row
    r = _chromium(tmp_path, "--dump-dom", index.as_uri() + "#class=py_permissive")
    body = _programs_tbody(r.stdout)
    rows = re.findall(r"<tr [^>]*>", body)
    visible = [tr for tr in rows if "hidden" not in tr]
    assert visible and all('data-class="py_permissive"' in tr for tr in visible)
    assert len(visible) < len(rows)
    assert f"{len(visible)} of {len(rows)} programs" in r.stdout

    # sorting: a copy of the page clicks "kernel insns" twice (descending), missing values stay last
    probe = index.with_name("sort-probe.html")
    heads = ["name", "source", "type", "tags", "size", "expected", "kernel", "pyverifier", "class", "kernel insns"]
    click = (f"<script>var th = document.querySelectorAll('#programs th')[{len(heads) - 1}]; th.click(); th.click();"
             "</script></body>")
    probe.write_text(index.read_text().replace("</body>", click))
    r = _chromium(tmp_path, "--dump-dom", probe.as_uri())
    body = _programs_tbody(r.stdout)
    keys = [v for v in re.findall(r'<td class="n" data-v="([^"]*)">[^<]*</td>\s*<td class="n" data-v="[^"]*">[^<]*</td>'
                                   r'\s*<td class="n" data-v="[^"]*">[^<]*</td>\s*<td class="n" data-v="[^"]*">', body)]
    assert len(keys) == len(rows)
    present = [float(k) for k in keys if k]
    assert present == sorted(present, reverse=True) and len(present) > 2
    assert keys[len(present):] == [""]  # the kernel error has no count: last
    assert 'class="n sorted-desc"' in r.stdout or 'class="sorted-desc n"' in r.stdout


@pytest.mark.chromium
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"headless Chromium not installed at {CHROMIUM}")
def test_two_thousand_program_index_opens(tmp_path: Path):
    """A report of 2000 programs opens in headless Chromium and its table script finishes. How long that
    takes is the report issue's yardstick (< 2 s): it is printed (``pytest -s``) and recorded in the README,
    not asserted, since a busy machine slows it (speed is measured, not tested)."""
    run = make_run(tmp_path, n_extra=2000)
    index = reports.render(run)
    probe = index.with_name("timing-probe.html")
    # table.js marks the table ready at the end of its work; record the time since navigation start then
    stamp = ("<script>new MutationObserver(function(m, o) {var t = document.querySelector('#programs');"
             "if (t && t.getAttribute('data-ready') === '1') {document.body.setAttribute('data-ready-ms',"
             " String(Math.round(performance.now()))); o.disconnect();}}).observe(document.documentElement,"
             " {attributes: true, subtree: true});</script>")
    html = index.read_text()
    probe.write_text(html.replace("<body>", "<body>" + stamp, 1))
    dom = _chromium(tmp_path, "--dump-dom", probe.as_uri()).stdout
    m = re.search(r'data-ready-ms="(\d+)"', dom)
    assert m, "the table script never finished"
    print(f"index of 2008 programs ready in {m.group(1)} ms")
    assert int(m.group(1)) > 0


def test_breakdowns_and_size_class_plots(tmp_path: Path):
    run = make_run(tmp_path, n_extra=30)
    comp = pd.read_parquet(run / "comparison.parquet")
    comp["kernel_total_states"] = 3
    comp["py_total_states"] = 3
    comp.to_parquet(run / "comparison.parquet")
    index = reports.render(run).read_text()
    assert "Classes by source, program type and tag" in index
    assert '<table class="grid small breakdown">' in index
    assert (run / "report" / "plots" / "time_ratio.png").exists()
    assert (run / "report" / "plots" / "states.png").exists()
    assert "Time ratio by size class" in index and "States kept for pruning" in index
