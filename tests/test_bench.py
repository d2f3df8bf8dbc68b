"""The benchmark machinery (compare.bench*): statistics, grouping, exclusion, JSON shape, the page.

Fast: a few tiny programs through pyverifier, no timing claims. The timing
suites themselves live in benchmarks/ (pytest-benchmark), outside the normal
test run.
"""
from __future__ import annotations

import json
import math
import random
import time

import numpy as np
import pytest

from compare import bench, bench_aggregate as agg
from compare.bench_measure import BudgetExceeded, count_pruned, time_budget
from compare.bench_micro import cases, time_case
from compare.bench_stats import fit_linear, pct_of, percentile, ratio, summary
from pyverifier.insn import Insn, encode
from pyverifier.program import Program


# ---- statistics -------------------------------------------------------------------------------
def test_summary_matches_numpy():
    rng = random.Random(5)
    xs = [rng.expovariate(1 / 50) for _ in range(101)]
    s = summary(xs)
    assert s["n"] == 101
    assert s["mean"] == pytest.approx(float(np.mean(xs)))
    assert s["std"] == pytest.approx(float(np.std(xs)))  # population standard deviation
    assert s["median"] == pytest.approx(float(np.median(xs)))
    assert s["p95"] == pytest.approx(float(np.percentile(xs, 95)))
    assert s["min"] == min(xs) and s["max"] == max(xs)


def test_summary_small_and_missing():
    assert summary([])["n"] == 0 and summary([])["mean"] is None and summary([])["p95"] is None
    assert summary([None, float("nan")])["n"] == 0
    one = summary([7])
    assert (one["mean"], one["std"], one["median"], one["p95"]) == (7, 0, 7, 7)
    # linear interpolation between ranks: 1..20 -> P95 at rank 18.05
    assert percentile(list(range(1, 21)), 95) == pytest.approx(19.05)
    assert summary([1, 2, 3, None])["n"] == 3


def test_ratio_and_pct():
    assert ratio(30, 10) == 3
    assert ratio(1, 0) is None and ratio(None, 5) is None and ratio(5, None) is None
    assert pct_of(25, 100) == 25


def test_fit_recovers_exact_formula():
    rng = random.Random(1)
    rows = [(rng.randrange(1, 5000), rng.randrange(0, 300)) for _ in range(40)]
    y = [4096 + 350 * n + 1900 * s for n, s in rows]
    f = fit_linear(rows, y, ("insns", "states"))
    assert f["n"] == 40 and f["rank"] == 3
    assert f["intercept"] == pytest.approx(4096, rel=1e-6)
    assert f["coef"]["insns"] == pytest.approx(350, rel=1e-9)
    assert f["coef"]["states"] == pytest.approx(1900, rel=1e-9)
    assert f["r2"] == pytest.approx(1.0)
    assert f["rmse"] == pytest.approx(0, abs=1e-6)


def test_fit_with_noise_and_too_few_points():
    rng = random.Random(2)
    rows = [(rng.randrange(1, 5000), rng.randrange(0, 300)) for _ in range(200)]
    y = [10000 + 200 * n + 1000 * s + rng.gauss(0, 500) for n, s in rows]
    f = fit_linear(rows, y, ("insns", "states"))
    assert f["coef"]["insns"] == pytest.approx(200, rel=0.02)
    assert f["coef"]["states"] == pytest.approx(1000, rel=0.02)
    assert 0.99 < f["r2"] <= 1
    few = fit_linear([(1, 2), (3, 4)], [5, 6], ("insns", "states"))
    assert few["intercept"] is None and few["coef"] == {"insns": None, "states": None}
    assert agg.format_formula(few).startswith("not enough programs")
    assert "insns x 200" in agg.format_formula(f).replace(",", "")


# ---- grouping and exclusion ------------------------------------------------------------------------
def _row(pid, insns, cls="both_accept", k_times=(10, 12, 11), p_times=(100, 90, 110), tags=(), py_verdict="accept",
         py_msg="", k_verdict="accept", mem=None, states=(1, 1), pruned=(0, 0)):
    from compare.classify import size_class

    return {
        "id": pid, "name": pid, "insn_count": insns, "size_class": size_class(insns), "tags": list(tags),
        "class": cls,
        "kernel": {"verdict": k_verdict, "message": "", "times_us": list(k_times), "insns_processed": insns,
                   "total_states": states[0], "peak_states": states[0], "pruned": pruned[0], "note": ""},
        "pyverifier": {"verdict": py_verdict, "message": py_msg, "times_us": list(p_times), "insns_processed": insns,
                       "total_states": states[1], "peak_states": states[1], "pruned": pruned[1], "note": ""},
        "memory": mem,
    }


def test_size_classes_and_ratios():
    rows = [
        _row("a", 5, k_times=[10, 10, 10], p_times=[100, 100, 100]),
        _row("b", 50, k_times=[20, 20, 30], p_times=[40, 40, 40]),
        _row("c", 500, k_times=[100], p_times=[1000]),
        _row("d", 5000, k_times=[1000], p_times=[3000]),
        _row("e", 20000, k_times=[10000], p_times=[10000]),
    ]
    g = agg.by_size_class(rows)
    assert [g[sc]["programs"] for sc in ("simple", "medium", "complex", "maximum")] == [2, 1, 1, 1]
    simple = g["simple"]
    assert simple["kernel_iterations"] == 6 and simple["py_iterations"] == 6
    assert simple["kernel_us"]["median"] == 15  # medians 10 and 20
    assert simple["py_us"]["median"] == 70  # medians 100 and 40
    assert simple["ratio_median"] == pytest.approx(6)  # ratios 10 and 2
    assert simple["pct"] == pytest.approx(600)
    assert g["complex"]["ratio_median"] == 3 and g["maximum"]["ratio_median"] == 1
    bar = agg.rust_bar(g)
    assert bar["simple"]["py_over_rust"] == pytest.approx(70 / 24.82)
    assert bar["complex"]["rust_us"] == 1040.0 and bar["complex"]["py_over_rust"] == pytest.approx(3000 / 1040)


def test_exclusion_rules():
    rows = [
        _row("ok", 5),
        _row("same_reject", 5, cls="both_reject_same", k_verdict="reject", py_verdict="reject"),
        _row("nm", 5, cls="not_modelled", py_verdict="error", py_msg="not modelled: atomics", p_times=()),
        _row("diff", 5, cls="both_reject_different", k_verdict="reject", py_verdict="reject"),
        _row("stricter", 5, cls="py_stricter", py_verdict="reject"),
        _row("err", 5, cls="tool_error", k_verdict="error"),
    ]
    compared, excluded = agg.split(rows, with_kernel=True)
    assert [r["id"] for r in compared] == ["ok", "same_reject"]
    reasons = {e["id"]: e["reason"] for e in excluded}
    assert reasons["nm"] == "pyverifier: not modelled: atomics"
    assert reasons["diff"].startswith("both_reject_different")
    assert reasons["stricter"].startswith("py_stricter: kernel accept")
    assert reasons["err"].startswith("kernel error")
    # without the kernel every program pyverifier decides counts
    compared, excluded = agg.split(rows, with_kernel=False)
    assert {r["id"] for r in compared} == {"ok", "same_reject", "diff", "stricter", "err"}
    assert [e["id"] for e in excluded] == ["nm"]


def test_insn_type_groups_and_empty():
    assert agg.insn_type_groups(["alu32", "map", "loop", "ctx"]) == ["alu", "map", "branch/loop"]
    rows = [_row("a", 5, tags=["alu"]), _row("b", 5, tags=["stack", "helper"]), _row("c", 5, tags=["ctx"])]
    it = agg.by_insn_type(rows)
    assert it["groups"]["alu"]["programs"] == 1
    assert it["groups"]["memory/stack"]["programs"] == 1 and it["groups"]["helper"]["programs"] == 1
    assert set(it["empty"]) == {"kfunc", "map", "branch/loop"}


def test_memory_and_pruning_sections():
    rng = random.Random(3)
    rows = []
    for i in range(30):
        n, s = rng.randrange(2, 3000), rng.randrange(0, 50)
        mem = {"peak_bytes": 5000 + 300 * n + 2000 * s, "parts": {"explored-state table": 2000 * s, "log text": 10}}
        rows.append(_row(f"p{i}", n, mem=mem, states=(s, s), pruned=(s // 2, s // 2)))
    m = agg.memory(rows)
    assert m["programs"] == 30
    assert m["fit"]["coef"]["insns"] == pytest.approx(300) and m["fit"]["coef"]["states"] == pytest.approx(2000)
    assert set(m["parts"]) == {"explored-state table", "log text"}
    assert sum(m["by_size_class"][sc]["programs"] for sc in m["by_size_class"]) == 30
    pr = agg.pruning(rows)
    tot = sum(pr[sc]["programs"] for sc in pr)
    assert tot == 30
    for sc, g in pr.items():
        if g["programs"] and g["kernel"]["pruned"]:
            k = g["kernel"]
            assert k["share_saved"] == pytest.approx(k["pruned"] / (k["pruned"] + k["total_states"]))


def test_count_pruned():
    log = "0: R1=ctx()\n12: safe\nfrom 9 to 13: safe\nfrom 4 to 7 (speculative execution): safe\n" \
          "13: (95) exit\nsafe\nR1 safe\n"
    assert count_pruned(log) == 3
    assert count_pruned("") == 0 and count_pruned(None) == 0


def test_time_budget_interrupts():
    t0 = time.monotonic()
    with pytest.raises(BudgetExceeded):
        with time_budget(0.05):
            while True:
                pass
    assert time.monotonic() - t0 < 2
    with time_budget(None):
        pass


def test_micro_cases_run_and_time_case_shape():
    for c in cases():
        if c.fn is not None:
            c.fn()  # every case can run
        else:
            assert c.note  # an absent case says why
    r = time_case(lambda: None, rounds=3, k=10)
    assert r["iterations"] == 30 and r["ns"]["n"] == 3 and r["ns"]["mean"] > 0


# ---- the whole document ----------------------------------------------------------------------------------
def _prog(name: str, asm_insns: list[Insn], tags=("alu",)) -> Program:
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(asm_insns), tags=tags)


def _tiny_corpus() -> list[Program]:
    mov0 = Insn(0xB7, 0, 0, 0, 0)  # r0 = 0
    add = Insn(0x07, 0, 0, 0, 5)  # r0 += 5
    ex = Insn(0x95, 0, 0, 0, 0)  # exit
    return [
        _prog("ret0", [mov0, ex]),
        _prog("adds", [mov0, add, add, add, ex], tags=("alu", "branch")),
        _prog("<b>html</b>", [mov0, ex], tags=("stack",)),
        _prog("uninit_r0", [ex], tags=()),  # rejected: R0 !read_ok
    ]


def test_run_bench_document_shape(tmp_path):
    from reports.bench_page import render

    args = bench.build_parser().parse_args(["--no-kernel", "--repeat", "2", "--no-micro"])
    doc = bench.run_bench(_tiny_corpus(), args, kernel_reason=None)
    doc = json.loads(json.dumps(doc))  # JSON-serialisable as is
    for key in ("schema", "environment", "kernel", "options", "counts", "overall", "time_by_size_class",
                "time_by_insn_type", "rust_bar", "memory", "pruning", "excluded", "per_program", "micro", "programs"):
        assert key in doc, key
    assert doc["schema"] == bench.SCHEMA
    assert doc["kernel"]["measured"] is False
    assert doc["environment"]["host"]["cpu_count"]
    assert doc["counts"] == {"programs": 4, "compared": 4, "excluded": 0}
    assert doc["time_by_size_class"]["simple"]["programs"] == 4
    assert doc["time_by_size_class"]["simple"]["py_iterations"] == 8
    assert set(doc["rust_bar"]) == {"simple", "medium", "complex"}
    rows = {r["id"]: r for r in doc["programs"]}
    assert rows["t/uninit_r0"]["pyverifier"]["verdict"] == "reject"
    assert rows["t/ret0"]["pyverifier"]["verdict"] == "accept"
    assert all(len(r["pyverifier"]["times_us"]) == 2 for r in rows.values())
    assert rows["t/adds"]["memory"]["peak_bytes"] > 0
    assert "kfunc" in doc["time_by_insn_type"]["empty"]
    text = bench.format_report(doc)
    assert "Verification time by size class" in text and "Rust" in text and "kernel NOT measured" in text
    page = render(tmp_path, doc)
    html = page.read_text()
    assert "&lt;b&gt;html&lt;/b&gt;" in html and "<b>html</b>" not in html  # autoescaped
    assert (tmp_path / "static" / "report.css").exists()
    assert (tmp_path / "bench_plots" / "time_by_size.png").exists()


def test_main_json_cli(tmp_path, capsys):
    rc = bench.main(["--no-kernel", "--repeat", "1", "--no-micro", "--no-memory", "--filter", "simple_return",
                     "--out", str(tmp_path), "--json", "--no-html"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in doc["programs"]] == ["builtin/simple_return"]
    assert json.loads((tmp_path / "bench.json").read_text())["counts"]["programs"] == 1
    assert not (tmp_path / "bench.html").exists()
    assert bench.main(["--no-kernel", "--filter", "no such program", "--out", str(tmp_path)]) == 2


@pytest.mark.bpf
def test_kernel_side_measured(tmp_path):
    args = bench.build_parser().parse_args(["--repeat", "3", "--no-micro", "--no-memory"])
    doc = bench.run_bench(_tiny_corpus()[:2], args, kernel_reason=None)
    assert doc["kernel"]["measured"] is True
    for r in doc["programs"]:
        assert r["class"] == "both_accept"
        assert len(r["kernel"]["times_us"]) == 3 and len(r["pyverifier"]["times_us"]) == 3
        assert r["kernel"]["insns_processed"] == r["pyverifier"]["insns_processed"]
    g = doc["time_by_size_class"]["simple"]
    assert g["programs"] == 2 and g["ratio_median"] is not None and not math.isnan(g["ratio_median"])


def test_subcommand_wiring():
    import argparse

    ap = argparse.ArgumentParser(prog="verifier-diff")
    sub = ap.add_subparsers(dest="cmd", required=True)
    bench.add_subcommand(sub)
    a = ap.parse_args(["bench", "--repeat", "5", "--no-kernel", "--json"])
    assert (a.repeat, a.kernel, a.json, a.corpus, a.log_level) == (5, False, True, "builtin", 0)
    assert a.fn is bench.run_args
    assert ap.parse_args(["bench"]).kernel is True
