"""First divergence of two logs, signatures, and how the report shows them."""
from __future__ import annotations

import os
import re

import pytest

import pandas as pd

from compare import runner, verifiers
from compare.divergence import first_divergence, split_at_line, state_tokens
from pyverifier.insn import Insn, encode
from pyverifier.program import Program
from pyverifier.result import Result

KLOG = """func#0 @0
Live regs before insn:
      0: .......... (b7) r0 = 0
      1: 0......... (07) r0 += 1
      2: 0......... (95) exit
0: R1=ctx() R10=fp0
0: (b7) r0 = 0                        ; R0=0
1: (07) r0 += 1                       ; R0=1
2: (95) exit
verification time 12 usec
stack depth 0
processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
"""
INSNS = [Insn(0xB7, 0, 0, 0, 0), Insn(0x07, 0, 0, 0, 1), Insn(0x95, 0, 0, 0, 0)]


def test_identical_logs_have_no_divergence_even_with_other_timing_and_padding():
    py = KLOG.replace("12 usec", "0 usec").replace("r0 = 0                        ;", "r0 = 0 ;")
    assert first_divergence(KLOG, py, INSNS) is None


def test_timing_glued_onto_a_last_line_is_ignored_but_the_line_compared():
    k = KLOG.replace("2: (95) exit\nverification time 12 usec", "2: (95) exit\nsome errorverification time 12 usec")
    assert first_divergence(k, k.replace("12 usec", "0 usec"), INSNS) is None
    d = first_divergence(k, k.replace("some error", "other error").replace("12 usec", "0 usec"), INSNS)
    assert d is not None and d.kernel_line == "some error" and d.py_line == "other error"


def test_rejection_message_glued_onto_a_level1_instruction_line():
    from pyverifier.result import rejection_message

    log = ("2: (b7) r0 = 1                        ; R0=1\n"
           "3: (55) if r1 != 0x5 goto pc-2 infinite loop detected at insn 2\n"
           "cur state: R0=1 R10=fp0\nold state: R0=1 R10=fp0\nverification time 101 usec\nstack depth 0\n"
           "processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0\n")
    assert rejection_message(log) == "infinite loop detected at insn 2"
    assert rejection_message("0: (b7) r0 = 0\n1: (bf) r0 = r1\nR1 !read_ok\n") == "R1 !read_ok"


def test_state_difference_names_instruction_and_register():
    py = KLOG.replace("; R0=1", "; R0=scalar(smin=0,smax=1)")
    d = first_divergence(KLOG, py, INSNS)
    assert d.insn == 1 and d.opcode == 0x07
    assert d.differing == ["R0"]
    assert d.kernel_line.endswith("R0=1") and "scalar" in d.py_line
    assert d.signature == "alu64(07): state R0"


def test_message_and_truncated_log():
    py = KLOG.split("2: (95) exit")[0] + "2: (95) exit\nR0 !read_ok\n"
    d = first_divergence(KLOG, py, INSNS)
    assert d.insn == 2 and d.kernel_line.startswith("stack depth") and d.py_line == "R0 !read_ok"
    assert "kernel statistics / pyverifier message" in d.signature
    d = first_divergence(KLOG, KLOG.split("1: (07)")[0], INSNS)
    assert d.py_line is None and d.kernel_line.startswith("1: (07)")


def test_state_tokens_split_at_depth_zero():
    t = state_tokens("R0=scalar(smin=0,var_off=(0x0; 0xff)) R1=ctx() fp-8=mmmm")
    assert t == {"R0": "scalar(smin=0,var_off=(0x0; 0xff))", "R1": "ctx()", "fp-8": "mmmm"}


def test_mark_differing_splits_state_entries():
    from compare.divergence import mark_differing

    pieces = mark_differing("3: (07) r3 += 1 ; R3=scalar(var_off=(0x0; 0x1)) R4=0", ["R3"])
    assert pieces == [("3: (07) r3 += 1 ; ", False), ("R3=scalar(var_off=(0x0; 0x1))", True), (" ", False),
                      ("R4=0", False)]
    assert mark_differing("R0 !read_ok", []) == [("R0 !read_ok", False)]


def test_split_at_line_counts_like_normalize():
    text = "a\n\nverification time 3 usec\nb\nc"
    assert split_at_line(text, 2) == ("a\n\nverification time 3 usec\n", "b", "\nc")
    assert split_at_line(text, 9) is None


def _fake(kind):
    def fn(program, log_level, repeat):
        log = KLOG if kind == "kernel" else KLOG.replace("; R0=1", "; R0=<b>2</b>")
        if program.name == "same":
            log = KLOG
        return Result(program_id=program.id, verifier=f"{kind}-x", verdict="accept", log=log, insns_processed=3,
                      verify_us=[1.0])
    return fn


def test_report_shows_divergence_and_triage(tmp_path, monkeypatch):
    monkeypatch.setitem(verifiers.VERIFIERS, "kernel", _fake("kernel"))
    monkeypatch.setitem(verifiers.VERIFIERS, "pyverifier", _fake("pyverifier"))
    monkeypatch.setattr(runner, "verifier_label", lambda k: f"{k}-x")
    progs = [Program(id=f"t/{n}", source="t", name=n, prog_type=1, insns=encode(INSNS)) for n in ("a", "b", "same")]
    out = runner.run(progs, tmp_path / "run", runner.RunOptions(jobs=1))
    comp = pd.read_parquet(out / "comparison.parquet").set_index("program_id")
    assert bool(comp.loc["t/same", "logs_identical"]) and not bool(comp.loc["t/a", "logs_identical"])
    assert comp.loc["t/a", "div_insn"] == 1 and comp.loc["t/a", "div_keys"] == "R0"
    triage = (out / "report" / "triage.html").read_text()
    assert "alu64(07): state R0" in triage and ">2</td>" in triage.replace(" ", "")
    page = (out / "report" / "programs" / "t_a.html").read_text()
    assert 'id="div-kernel"' in page and 'id="div-pyverifier"' in page
    assert "Differing: <strong>R0" in page
    assert '<mark class="diffkey">R0=1</mark>' in page  # the differing entry is marked in both lines
    assert '<mark class="diffkey">R0=&lt;b&gt;2&lt;/b&gt;</mark>' in page
    assert "&lt;b&gt;2&lt;/b&gt;" in page and "<b>2</b>" not in page  # log text stays text
    index = (out / "report" / "index.html").read_text()
    assert "<strong>1</strong> programs have identical logs" in index
    assert os.path.exists(out / "report" / "static" / "program.js")


@pytest.mark.chromium
def test_divergence_link_and_marks_in_chromium(tmp_path, monkeypatch):
    from browser import run_chromium, save_artifact

    monkeypatch.setitem(verifiers.VERIFIERS, "kernel", _fake("kernel"))
    monkeypatch.setitem(verifiers.VERIFIERS, "pyverifier", _fake("pyverifier"))
    monkeypatch.setattr(runner, "verifier_label", lambda k: f"{k}-x")
    progs = [Program(id="t/a", source="t", name="a", prog_type=1, insns=encode(INSNS))]
    out = runner.run(progs, tmp_path / "run", runner.RunOptions(jobs=1))
    triage = out / "report" / "triage.html"
    dom = run_chromium(tmp_path, "--dump-dom", triage.as_uri()).stdout
    link = re.search(r'<a href="(programs/t_a\.html#divergence)"', dom)
    assert link, "triage page links the program's divergence"
    page = out / "report" / link.group(1).split("#")[0]
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri() + "#divergence").stdout
    assert 'data-div-scrolled="1"' in dom  # program.js ran
    marks = re.findall(r'<mark class="div" id="div-(kernel|pyverifier)">([^<]*)</mark>', dom)
    assert [k for k, _ in marks] == ["kernel", "pyverifier"]
    assert marks[0][1].endswith("R0=1") and marks[1][1].endswith("R0=&lt;b&gt;2&lt;/b&gt;")
    assert '<a href="#div-kernel">' in dom and '<a href="#div-pyverifier">' in dom
    shot = tmp_path / "program.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1200", page.as_uri())
    save_artifact(shot, "program-divergence.png")


def _reference_first_divergence(kernel_log, py_log, insns=None):
    """The plain line-by-line comparison first_divergence must agree with (it skips equal runs faster)."""
    from compare.divergence import _FROM, _INSN, _STATE_LINE, normalize

    k = normalize(kernel_log, insns, kernel=True)
    p = normalize(py_log, insns)
    insn = None
    for i in range(max(len(k), len(p))):
        kl = k[i] if i < len(k) else None
        pl = p[i] if i < len(p) else None
        if kl == pl:
            m = _INSN.match(kl) or _STATE_LINE.match(kl) or _FROM.match(kl)
            if m:
                insn = int(m.group(2) if kl.startswith("from ") else m.group(1))
            continue
        for line in (kl, pl):
            if line is None:
                continue
            m = _INSN.match(line) or _STATE_LINE.match(line)
            if m:
                insn = int(m.group(1))
                break
            m = _FROM.match(line)
            if m:
                insn = int(m.group(2))
                break
        return i + 1, insn, kl, pl
    return None


def test_first_divergence_agrees_with_line_by_line_comparison_on_long_mutated_logs():
    import random

    vocab = ["0: (b7) r0 = 0                        ; R0=0", "1: (07) r0 += 1 ; R0=1", "2: R0=1 R10=fp0",
             "from 3 to 5: R1=ctx() R10=fp0", "2: (95) exit", "", "   ", "verification time 7 usec",
             "mark_precise: frame0: last_idx 4", "some message  ; x", "4: (bf) r1 = r2   ", "R0 !read_ok"]
    for seed in range(60):
        rng = random.Random(seed)
        base = [rng.choice(vocab) for _ in range(rng.choice([3, 50, 3000, 20000]))]
        other = list(base)
        for _ in range(rng.randint(0, 3)):
            op = rng.randrange(5)
            at = rng.randrange(len(other) + 1)
            if op == 0:
                other.insert(at, rng.choice(vocab))
            elif op == 1 and at < len(other):
                other[at] = other[at] + "  "  # trailing blanks: no difference
            elif op == 2 and at < len(other):
                other[at] = other[at].replace(" ; ", "      ; ")  # padding: no difference
            elif op == 3:
                del other[at:at + rng.randint(1, 5)]
            else:
                other = other[:at]
        klog, plog = "\n".join(base) + "\n", "\n".join(other) + "\n"
        for a, b in ((klog, plog), (plog, klog)):
            ref = _reference_first_divergence(a, b, INSNS)
            d = first_divergence(a, b, INSNS)
            assert (None if d is None else (d.line, d.insn, d.kernel_line, d.py_line)) == ref, seed


def test_rejection_message_before_a_source_line():
    """At log level 4 the kernel may print the failing instruction's source line after its error."""
    from pyverifier.result import rejection_message

    log = ("invalid bpf_context access off=3 size=1\n; return ctx->len; @ prog.c:12\n"
           "verification time 5 usec\nstack depth 0\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 "
           "total_states 0 peak_states 0 mark_read 0\n")
    assert rejection_message(log) == "invalid bpf_context access off=3 size=1"
