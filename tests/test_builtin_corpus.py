"""The built-in corpus (issue 5): size, size classes, program types, parsing, kernel-recorded verdicts.

The expect lines come from the live kernel (``python -m selftests.check_corpus
--update``); these tests check that they are there and consistent, that the
generated files match their generators. That the running kernel still says the
same is ``tests/test_corpus.py::test_builtin_verdicts_match_live_kernel`` (``bpf``).
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from pyverifier import uapi
from selftests.asmfile import SIZE_CLASSES, load_asm_file, parse_header, size_class
from selftests.corpus import builtin_dir, load_corpus
from selftests.gen_builtin import _all_generators, render
from selftests.gen_header import GENERATED

PROGRAMS, ERRORS = load_corpus("builtin")
FILES = sorted(builtin_dir().glob("*.s"))


def _size(p) -> str:
    (cls,) = [t for t in p.tags if t in SIZE_CLASSES]
    return cls


def test_at_least_300_programs_all_loaded():
    assert ERRORS == []
    assert len(FILES) >= 300
    assert len(PROGRAMS) == len(FILES)


def test_every_size_class_present():
    counts = Counter(_size(p) for p in PROGRAMS)
    assert set(counts) == set(SIZE_CLASSES)
    assert counts["medium"] >= 15 and counts["complex"] >= 10 and counts["maximum"] >= 3, counts
    for p in PROGRAMS:
        assert _size(p) == size_class(p.insn_count), p.id


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_each_file_parses_and_is_named_after_its_program(path):
    p = load_asm_file(path)
    assert p.name == path.stem
    assert p.insn_count > 0 and p.decoded()
    fields, _ = parse_header(path.read_text(), path)
    assert fields.get("description"), f"{path.name}: say what it checks in a '# description:' line"
    assert len(p.tags) >= 2, f"{path.name}: tag what it exercises, not only its size class"


def test_names_unique():
    names = [p.name for p in PROGRAMS]
    assert len(set(names)) == len(names)
    lower = [n.lower() for n in names]
    assert len(set(lower)) == len(lower)  # distinct on case-insensitive file systems too


def test_every_program_has_a_kernel_expectation():
    for p in PROGRAMS:
        assert p.expect.verdict in ("accept", "reject"), f"{p.id}: run python -m selftests.check_corpus --update"
        if p.expect.verdict == "reject":
            assert p.expect.message, f"{p.id}: a rejection records the kernel's message"
        else:
            assert not p.expect.message, p.id


def test_reject_names_match_the_kernel():
    """A program called reject_* is one the kernel rejected (the name promises a targeted rejection)."""
    wrong = [p.name for p in PROGRAMS if p.name.startswith("reject_") and p.expect.verdict != "reject"]
    assert wrong == []


def test_accept_share_and_distinct_rejections():
    verdicts = Counter(p.expect.verdict for p in PROGRAMS)
    share = verdicts["accept"] / len(PROGRAMS)
    assert 0.55 <= share <= 0.65, f"{share:.1%} accepted"
    messages = {p.expect.message for p in PROGRAMS if p.expect.verdict == "reject"}
    assert len(messages) >= 80, f"only {len(messages)} distinct kernel rejection messages"


def test_program_types_covered():
    types = Counter(uapi.prog_type_name(p.prog_type) for p in PROGRAMS)
    wanted = {"socket_filter", "sched_cls", "sched_act", "xdp", "kprobe", "tracepoint", "raw_tracepoint",
              "perf_event", "cgroup_skb", "cgroup_sock", "cgroup_sock_addr", "sock_ops", "sk_skb", "sk_msg",
              "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local", "flow_dissector", "cgroup_device",
              "cgroup_sysctl", "cgroup_sockopt", "sk_lookup", "sk_reuseport"}
    assert wanted <= set(types), wanted - set(types)


def test_features_covered():
    tags = Counter(t for p in PROGRAMS for t in p.tags)
    for tag in ("alu", "alu32", "branch", "loop", "prune", "stack", "map", "packet", "ctx", "helper",
                "subprog", "atomic", "reference", "retval"):
        assert tags[tag] >= 3, f"tag {tag!r}: {tags[tag]} programs"
    map_types = {m.type for p in PROGRAMS for m in p.maps}
    for name in ("array", "hash", "percpu_array", "lru_hash", "ringbuf", "prog_array", "lpm_trie", "queue",
                 "stack", "devmap", "sockmap", "perf_event_array", "stack_trace"):
        assert uapi.MAP_TYPES[name] in map_types, name


def test_maximum_programs_are_at_the_limits():
    big = [p for p in PROGRAMS if _size(p) == "maximum"]
    assert all(p.insn_count >= 10000 for p in big)
    text = " ".join(" ".join(p.tags) for p in big)
    assert "stack" in text and "subprog" in text and "loop" in text


_GENERATED_NAMES = sorted(_all_generators())


@pytest.mark.parametrize("name", _GENERATED_NAMES)
def test_generated_files_match_their_generator(name):
    path = builtin_dir() / f"{name}.s"
    existing = path.read_text()
    assert render(name, existing) == existing, f"{path.name} differs from its generator: python -m selftests.gen_builtin"


def test_generated_marker_only_on_generated_files():
    marked = {f.stem for f in FILES if GENERATED in f.read_text()}
    assert marked == set(_GENERATED_NAMES)


def test_descriptions_name_pyverifier_time_of_maximum_programs():
    """Maximum-class programs say how long pyverifier takes on them (they are the slow ones)."""
    for p in PROGRAMS:
        if _size(p) == "maximum":
            text = p.source_text
            assert re.search(r"pyverifier: (about|under) [0-9.]+ s", text), p.id
