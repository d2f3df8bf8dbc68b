"""Import the kernel's old-format verifier tests (``test_verifier``) from a kernel source tree.

The tests live in ``tools/testing/selftests/bpf/verifier/*.c`` as ``struct
bpf_test`` initializers written with the kernel's instruction macros, some of
them completed at run time by a ``fill_helper`` function. Rather than parse
that macro zoo, the importer lets the C compiler do it: it builds a small
dumper program from

* the part of the tree's ``test_verifier.c`` before its ``tests[]`` array
  (``struct bpf_test``, the fill helpers, the includes that bring the macros),
* one array per ``verifier/*.c`` file, included exactly as ``test_verifier.c``
  includes them,
* ``selftests/ksft/dumper_main.c`` (ours), which runs every fill helper and
  prints each test as one JSON object,

compiles it with ``gcc`` (cached under ``$VERIFIER_DIFF_CACHE`` or
``~/.cache/verifier-diff``, keyed by the sources), runs it, and turns each
JSON record into a ``Program`` the way ``test_verifier`` would load it:

* instructions: the fill helper's ``prog_len`` or the array up to its last
  slot with a non-zero code or imm;
* ``prog_type`` 0 means ``socket_filter``; ``expected_attach_type`` as given;
* ``prog_flags``: ``BPF_F_TEST_RND_HI32`` always, ``F_LOAD_WITH_STRICT_ALIGNMENT``
  -> ``BPF_F_STRICT_ALIGNMENT``, ``F_NEEDS_EFFICIENT_UNALIGNED_ACCESS`` ->
  ``BPF_F_ANY_ALIGNMENT`` (as on x86), and the test's own flags when it has
  flags beyond those two, ORed in whole;
* one fixture map per ``fixup_*`` array, as ``test_verifier`` creates it (see
  ``FIXTURES``); the ``imm`` of each fixup position becomes that map's index
  in ``Program.maps``;
* the four BTF-backed fixtures (``map_spin_lock``, ``sk_storage_map``,
  ``map_timer``, ``map_kptr``) carry the raw BTF ``test_verifier`` loads for
  them, rebuilt with ``kernel_loader.btf.BtfBuilder`` in its type order (ids 1
  to 14: ``int``, ``bpf_spin_lock``, ``val``, ``bpf_timer``, ``timer``,
  ``prog_test_ref_kfunc``, ``prog_test_member``, three kptr type tags, three
  pointers, ``btf_ptr``), key type 1 and the value type test_verifier names;
* kptr type tags: 6.1's test_verifier tags the unreferenced kptr ``kptr`` and
  the referenced ones ``kptr_ref``; later kernels renamed them to
  ``kptr_untrusted`` and ``kptr`` (and later test_verifier.c sends those), and
  6.18 refuses a BTF blob holding ``kptr_ref``. The importer keeps the tests'
  intent (one untrusted, two referenced kptrs) and by default writes the new
  spelling (``--kptr-tags renamed``); every test whose maps carry this BTF
  records the spelling sent in ``expect.extra["btf_kptr_tags"]`` and, when it
  differs from the tree's own, the tree's in ``btf_kptr_tags_tree``.
  ``--kptr-tags tree`` sends the tree's spelling (for running the corpus on
  the tree's own kernel);
* tracing and LSM tests name their attach target in ``.kfunc``: it becomes
  ``Program.attach_to`` (kernel_loader resolves its BTF id as libbpf does).
  fentry, fexit, fmod_ret and LSM programs attach through BPF trampolines,
  which some kernels refuse before their verifier runs (EPERM, empty log):
  such tests are tagged ``needs:trampoline`` (``ENV_TAGS``), so the agreement
  figure can be given with and without them;
* ``expect``: ``ACCEPT``/``VERBOSE_ACCEPT`` -> accept, ``REJECT`` -> reject,
  ``message`` the ``errstr`` of a rejection, the rest in ``extra``.

A test this machine or the Program record cannot reproduce (kfuncs patched by
BTF id, program BTF, a raw map fd, an unknown fixture) becomes a ``Skipped``
entry with its reason; nothing is dropped silently.

    python -m selftests.kernel_selftests KSRC --out FILE.jsonl

writes the Programs as JSON Lines, the skip list as ``FILE.skipped.json`` and
prints a summary.

    python -m selftests.kernel_selftests --agreement RUN_DIR [--json]

compares a run of such a corpus (``verifier-diff run --corpus FILE.jsonl
--verifiers kernel``) with the tests' expectations (``agreement()``): verdicts
agreeing overall and without the environment-limited (``needs:*``) tests, and,
for rejections, whether the test's ``errstr`` is in the log as test_verifier
checks it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from pyverifier import uapi
from pyverifier.insn import INSN_SIZE, decode
from pyverifier.program import Expect, MapSpec, Program

from .ctext import skip_comment_or_literal
from .asmfile import size_class
from .corpus import write_jsonl

SELFTESTS_BPF = Path("tools/testing/selftests/bpf")
DUMPER_MAIN = Path(__file__).resolve().parent / "ksft" / "dumper_main.c"
DUMPER_VERSION = "2"  # bump when the generated glue changes, so cached dumpers are rebuilt
SEED = 1  # srand() seed for the random fill helpers (test_verifier seeds from the clock)

# struct bpf_test result enum (test_verifier.c) -> our verdict. test_verifier expects a failed load
# for anything but ACCEPT and VERBOSE_ACCEPT, so a test that leaves .result unset (UNDEF) expects reject.
_VERDICTS = {"ACCEPT": "accept", "VERBOSE_ACCEPT": "accept", "REJECT": "reject", "UNDEF": "reject"}

# test_verifier.c's own test flags and the prog_flags it turns them into
F_NEEDS_EFFICIENT_UNALIGNED_ACCESS = 1 << 0
F_LOAD_WITH_STRICT_ALIGNMENT = 1 << 1
BPF_F_STRICT_ALIGNMENT = uapi.PROG_FLAGS["strict_alignment"]
BPF_F_ANY_ALIGNMENT = uapi.PROG_FLAGS["any_alignment"]
BPF_F_TEST_RND_HI32 = uapi.PROG_FLAGS["test_rnd_hi32"]

# map flags test_verifier's fixtures use
BPF_F_NO_PREALLOC = 1 << 0
BPF_F_RDONLY_PROG = 1 << 7
BPF_F_WRONLY_PROG = 1 << 8

_LD_IMM64 = 0x18
_MAP_REF_SRCS = (1, 2)  # BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE
_CALL = 0x85
_PSEUDO_CALL = 1
_PSEUDO_KFUNC_CALL = 2
_LD_ABS_IND = (0x20, 0x28, 0x30, 0x40, 0x48, 0x50)  # BPF_LD | BPF_ABS/BPF_IND, sizes W/H/B
_IMM = struct.Struct("<i")
_BTF_ATTACHED = (uapi.prog_type_num("tracing"), uapi.prog_type_num("lsm"))

# skip reasons (the keys of the summary)
SKIP_KFUNC = "kfunc_btf_id"
SKIP_PROG_BTF = "prog_btf"  # program BTF the importer cannot rebuild (the tests' own BTF is imported)
SKIP_UNKNOWN_FIXTURE = "unknown_fixture"
SKIP_RAW_MAP_FD = "raw_map_fd"
SKIP_BAD_FIXUP = "fixup_not_ld_imm64"
SKIP_UNKNOWN_RESULT = "unknown_result"
SKIP_BAD_INSNS = "bad_insns"


class KsftError(RuntimeError):
    """The tree cannot be imported (not a kernel tree, no compiler, the dumper failed)."""


@dataclass(frozen=True)
class Skipped:
    """A test that was not imported, and why."""

    id: str  # the id it would have had
    name: str  # the test's description
    file: str  # verifier/<file>.c
    index: int  # position in that file
    reason: str  # one of the SKIP_* keys
    detail: str  # what exactly

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Fixtures: the maps test_verifier's do_test_fixup() creates for each fixup_* array.

def _test_val_init(value_size: int) -> bytes:
    """The value update_map() writes at key 0: struct test_val {.index = 7 * 4, .foo[6] = 0xabcdef12}.

    ``bpf_map_update_elem`` copies value_size bytes of that 48-byte struct.
    """
    v = bytearray(48)
    v[0:4] = (7 * 4).to_bytes(4, "little")
    v[4 + 6 * 4: 4 + 7 * 4] = (0xABCDEF12).to_bytes(4, "little")
    return bytes(v[:value_size])


def _map(name: str, mtype: str, key: int, value: int, entries: int, flags: int = 0, *,
         inner: MapSpec | None = None, init: bytes | None = None) -> Callable[[], MapSpec]:
    def make() -> MapSpec:
        return MapSpec(name=name, type=uapi.map_type_num(mtype), key_size=key, value_size=value,
                       max_entries=entries, flags=flags, inner=inner, init=init)
    return make


_TEST_VAL = 48  # sizeof(struct test_val): unsigned int index; int foo[11]
_OTHER_VAL = 16  # sizeof(struct other_val): long long foo, bar
_CGROUP_STORAGE_KEY = 16  # sizeof(struct bpf_cgroup_storage_key): __u64 cgroup_inode_id; __u32 attach_type
_TEST_DATA_LEN = 64

# fixup name (without "fixup_") -> MapSpec factory (the BTF-backed ones are added below).
# create_map() adds BPF_F_NO_PREALLOC to every plain hash map; array fixtures get update_map(fd, 0).
# Prog arrays: test_verifier fills them with small dummy programs; the verifier does not look at the
# contents, so the fixture is the empty array of the same size.
FIXTURES: dict[str, Callable[[], MapSpec]] = {
    "map_hash_8b": _map("map_hash_8b", "hash", 8, 8, 1, BPF_F_NO_PREALLOC),
    "map_hash_48b": _map("map_hash_48b", "hash", 8, _TEST_VAL, 1, BPF_F_NO_PREALLOC),
    "map_hash_16b": _map("map_hash_16b", "hash", 8, _OTHER_VAL, 1, BPF_F_NO_PREALLOC),
    "map_array_48b": _map("map_array_48b", "array", 4, _TEST_VAL, 1, init=_test_val_init(_TEST_VAL)),
    "prog1": _map("prog1", "prog_array", 4, 4, 4),
    "prog2": _map("prog2", "prog_array", 4, 4, 8),
    "map_in_map": _map("map_in_map", "array_of_maps", 4, 4, 1,
                       inner=MapSpec("inner", uapi.map_type_num("array"), 4, 4, 1)),
    "cgroup_storage": _map("cgroup_storage", "cgroup_storage", _CGROUP_STORAGE_KEY, _TEST_DATA_LEN, 0),
    "percpu_cgroup_storage": _map("pcpu_cg_storage", "percpu_cgroup_storage", _CGROUP_STORAGE_KEY,
                                  _TEST_DATA_LEN, 0),
    "map_sockmap": _map("map_sockmap", "sockmap", 4, 4, 1),
    "map_sockhash": _map("map_sockhash", "sockhash", 4, 4, 1),
    "map_xskmap": _map("map_xskmap", "xskmap", 4, 4, 1),
    "map_stacktrace": _map("map_stacktrace", "stack_trace", 4, 8, 1),
    "map_array_ro": _map("map_array_ro", "array", 4, _TEST_VAL, 1, BPF_F_RDONLY_PROG,
                         init=_test_val_init(_TEST_VAL)),
    "map_array_wo": _map("map_array_wo", "array", 4, _TEST_VAL, 1, BPF_F_WRONLY_PROG,
                         init=_test_val_init(_TEST_VAL)),
    "map_array_small": _map("map_array_small", "array", 4, 1, 1, init=_test_val_init(1)),
    "map_event_output": _map("map_event_output", "perf_event_array", 4, 4, 1),
    "map_reuseport_array": _map("reuseport_array", "reuseport_sockarray", 4, 8, 1),
    "map_ringbuf": _map("map_ringbuf", "ringbuf", 0, 0, 4096),
}

# kptr type tags as (unreferenced, referenced): 6.1's spelling and the one later kernels read
KPTR_TAGS_6_1 = ("kptr", "kptr_ref")
KPTR_TAGS_RENAMED = ("kptr_untrusted", "kptr")
KPTR_TAGS = KPTR_TAGS_RENAMED  # what FIXTURES sends

# test_verifier's fixture BTF type ids: key type, and the value type of each BTF-backed fixture
BTF_KEY_TYPE_ID = 1
BTF_VAL_ID, BTF_TIMER_ID, BTF_PTR_ID = 3, 5, 14


@lru_cache(maxsize=4)
def fixture_btf(kptr_tags: tuple[str, str] = KPTR_TAGS) -> bytes:
    """The raw BTF test_verifier loads for its BTF-backed fixtures, with these kptr tag names.

    In C terms: ``struct val { int cnt; struct bpf_spin_lock l; }``, ``struct timer
    { struct bpf_timer t; }`` and ``struct btf_ptr`` holding one unreferenced kptr to
    ``prog_test_ref_kfunc`` and referenced kptrs to ``prog_test_ref_kfunc`` and
    ``prog_test_member``, with test_verifier's type ids.
    """
    from kernel_loader.btf import BtfBuilder  # pure Python; imported here to keep this module light

    unref, ref = kptr_tags
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])
    timer = b.struct("timer", [("t", b.bpf_timer())])
    ref_kfunc = b.struct("prog_test_ref_kfunc", [], size=0)
    member = b.struct("prog_test_member", [], size=0)
    tags = [b.type_tag(unref, ref_kfunc), b.type_tag(ref, ref_kfunc), b.type_tag(ref, member)]
    btf_ptr = b.struct("btf_ptr", [("ptr", b.ptr(t)) for t in tags])
    got = (i32, val, timer, btf_ptr)
    if got != (BTF_KEY_TYPE_ID, BTF_VAL_ID, BTF_TIMER_ID, BTF_PTR_ID):
        raise KsftError(f"fixture BTF type ids {got} are not test_verifier's "
                        f"{(BTF_KEY_TYPE_ID, BTF_VAL_ID, BTF_TIMER_ID, BTF_PTR_ID)}")
    return b.encode()


def _btf_map(name: str, mtype: str, value: int, entries: int, value_type_id: int, flags: int = 0,
             kptr_tags: tuple[str, str] = KPTR_TAGS) -> Callable[[], MapSpec]:
    def make() -> MapSpec:
        return MapSpec(name=name, type=uapi.map_type_num(mtype), key_size=4, value_size=value,
                       max_entries=entries, flags=flags, btf=fixture_btf(kptr_tags),
                       btf_key_type_id=BTF_KEY_TYPE_ID, btf_value_type_id=value_type_id)
    return make


def btf_fixtures(kptr_tags: tuple[str, str] = KPTR_TAGS) -> dict[str, Callable[[], MapSpec]]:
    """test_verifier's create_map_spin_lock/create_sk_storage_map/create_map_timer/create_map_kptr."""
    return {
        "map_spin_lock": _btf_map("map_spin_lock", "array", 8, 1, BTF_VAL_ID, kptr_tags=kptr_tags),
        "sk_storage_map": _btf_map("sk_storage_map", "sk_storage", 8, 0, BTF_VAL_ID, BPF_F_NO_PREALLOC,
                                   kptr_tags=kptr_tags),
        "map_timer": _btf_map("map_timer", "array", 16, 1, BTF_TIMER_ID, kptr_tags=kptr_tags),
        "map_kptr": _btf_map("map_kptr", "array", 24, 1, BTF_PTR_ID, kptr_tags=kptr_tags),
    }


FIXTURES.update(btf_fixtures())


def fixtures_with(kptr_tags: tuple[str, str]) -> dict[str, Callable[[], MapSpec]]:
    """FIXTURES whose BTF-backed maps carry ``kptr_tags``."""
    return {**FIXTURES, **btf_fixtures(kptr_tags)}


def tree_kptr_tags(ksrc: Path) -> tuple[str, str] | None:
    """The kptr tag spelling the tree's test_verifier.c sends (None when it has no kptr fixture)."""
    try:
        text = (selftests_dir(ksrc) / "test_verifier.c").read_text(errors="replace")
    except OSError:
        return None
    if "\\0kptr_untrusted" in text:
        return KPTR_TAGS_RENAMED
    if "\\0kptr_ref" in text:
        return KPTR_TAGS_6_1
    return None


# environment-limited tests: expected attach type -> what the load needs beyond bpf(). fentry, fexit,
# fmod_ret and LSM programs attach through BPF trampolines, which a kernel may refuse outright
# (EPERM with an empty log) whatever the program says.
ENV_TAG_PREFIX = "needs:"
TAG_TRAMPOLINE = "needs:trampoline"
ENV_TAGS = {uapi.attach_type_num(t): TAG_TRAMPOLINE
            for t in ("trace_fentry", "trace_fexit", "modify_return", "lsm_mac", "lsm_cgroup")}


# ---------------------------------------------------------------------------------------------
# The tree

def selftests_dir(ksrc: Path) -> Path:
    return Path(ksrc) / SELFTESTS_BPF


def kernel_version(ksrc: Path) -> str:
    """``VERSION.PATCHLEVEL`` from the tree's top-level Makefile (``6.1``)."""
    mk = Path(ksrc) / "Makefile"
    try:
        text = mk.read_text(errors="replace")
    except OSError as e:
        raise KsftError(f"{mk}: cannot read the kernel's Makefile ({e.strerror}); is {ksrc} a kernel tree?") from None
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL)\s*=\s*(\d+)\s*$", text, re.M))
    if "VERSION" not in fields or "PATCHLEVEL" not in fields:
        raise KsftError(f"{mk}: no VERSION/PATCHLEVEL lines; is {ksrc} a kernel tree?")
    return f"{fields['VERSION']}.{fields['PATCHLEVEL']}"


def test_files(ksrc: Path) -> list[Path]:
    """The ``verifier/*.c`` files in the order test_verifier's generated tests.h includes them."""
    d = selftests_dir(ksrc) / "verifier"
    files = sorted(d.glob("*.c"), key=lambda p: p.name.encode())
    if not files:
        raise KsftError(f"no verifier tests in {d}: unpack tools/ of the kernel source (see --help)")
    return files


_TESTS_ARRAY = re.compile(r"^static\s+struct\s+bpf_test\s+tests\s*\[\s*\]\s*=\s*\{", re.M)
_STRUCT = re.compile(r"^struct\s+bpf_test\s*\{(.*?)^\};", re.M | re.S)
_FIXUP_FIELD = re.compile(r"\bint\s+fixup_([A-Za-z0-9_]+)\s*\[\s*MAX_FIXUPS\s*\]\s*;")
# optional struct bpf_test fields the dumper prints when the tree has them
_OPTIONAL_FIELDS = {
    "expected_attach_type": r"\bexpected_attach_type\s*;",
    "runs": r"\bint\s+runs\s*;",
    "retvals": r"\bretvals\s*\[",
    "insn_processed": r"\binsn_processed\s*;",
    "kfunc": r"\bconst\s+char\s*\*\s*kfunc\s*;",
    "func_info_cnt": r"\bfunc_info_cnt\s*;",
    "btf_types": r"\bbtf_types\s*\[",
    "expected_insns": r"\bexpected_insns\s*\[",
    "unexpected_insns": r"\bunexpected_insns\s*\[",
    "fixup_kfunc_btf_id": r"\bfixup_kfunc_btf_id\s*\[",
}


def dumper_source(ksrc: Path) -> str:
    """The C source of the dumper for the tree at ``ksrc`` (see the module doc)."""
    tv = selftests_dir(ksrc) / "test_verifier.c"
    try:
        text = tv.read_text(errors="replace")
    except OSError as e:
        raise KsftError(f"{tv}: {e.strerror}; unpack tools/ of the kernel source") from None
    m = _TESTS_ARRAY.search(text)
    s = _STRUCT.search(text)
    if not m or not s:
        raise KsftError(f"{tv}: no 'struct bpf_test' or 'static struct bpf_test tests[]': unknown layout")
    prefix = text[: m.start()]
    body = s.group(1)
    fixups = _FIXUP_FIELD.findall(body)
    out = [
        f"/* generated by verifier-diff from {tv}; dumper glue version {DUMPER_VERSION} */",
        f'#line 1 "{tv}"',
        prefix,
        '#line 1 "<verifier-diff glue>"',
        f"#define VD_SEED {SEED}",
        "#define VD_FOR_EACH_FIXUP(X) " + " ".join(f"X({f})" for f in fixups),
    ]
    out += [f"#define VD_HAVE_{k} 1" for k, rx in _OPTIONAL_FIELDS.items() if re.search(rx, body)]
    table = []
    out.append("#define FILL_ARRAY")
    for i, f in enumerate(test_files(ksrc)):
        out.append(f"static struct bpf_test vd_tests_{i}[] = {{")
        out.append(f'#include "verifier/{f.name}"')
        out.append("};")
        table.append(f'\t{{ "{f.name}", vd_tests_{i}, sizeof(vd_tests_{i}) / sizeof(vd_tests_{i}[0]) }},')
    out.append("#undef FILL_ARRAY")
    out.append("static struct { const char *name; struct bpf_test *tests; size_t n; } VD_FILES[] = {")
    out += table
    out.append("};")
    out.append(f'#line 1 "{DUMPER_MAIN}"')
    out.append(DUMPER_MAIN.read_text())
    return "\n".join(out) + "\n"


def _include_flags(ksrc: Path) -> list[str]:
    ksrc = Path(ksrc)
    tools = ksrc / "tools"
    # the order of the selftests Makefile: the test dir, tools/lib (bpf/*.h), tools/include, uapi
    return ["-I", str(selftests_dir(ksrc)), "-I", str(tools / "lib"), "-I", str(tools / "include"),
            "-I", str(tools / "include" / "uapi")]


def cache_dir() -> Path:
    env = os.environ.get("VERIFIER_DIFF_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verifier-diff"


def _cache_key(source: str, ksrc: Path, cc: str) -> str:
    h = hashlib.sha256()
    h.update(cc.encode())
    h.update(source.encode())
    for f in test_files(ksrc):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    for rel in ("tools/include/linux/filter.h", str(SELFTESTS_BPF / "test_btf.h"),
                str(SELFTESTS_BPF / "bpf_rand.h")):
        p = Path(ksrc) / rel
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:20]


def build_dumper(ksrc: Path, cache: Path | None = None, cc: str | None = None) -> Path:
    """Compile (or find cached) the dumper for ``ksrc``; returns the executable's path."""
    cc = cc or os.environ.get("CC") or "gcc"
    source = dumper_source(ksrc)
    cache = Path(cache) if cache is not None else cache_dir()
    key = _cache_key(source, ksrc, cc)
    exe = cache / f"ksft-dumper-{key}"
    if exe.exists() and os.access(exe, os.X_OK):
        return exe
    cache.mkdir(parents=True, exist_ok=True)
    src = cache / f"ksft-dumper-{key}.c"
    src.write_text(source)
    tmp = exe.with_name(exe.name + f".tmp{os.getpid()}")
    cmd = [cc, "-O0", "-w", "-std=gnu11", "-o", str(tmp), str(src), *_include_flags(ksrc)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise KsftError(f"C compiler {cc!r} not found: apt-get install gcc (or set CC)") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise KsftError(f"compiling the test_verifier dumper failed ({' '.join(cmd)}):\n{tail}")
    tmp.replace(exe)
    return exe


def run_dumper(exe: Path) -> list[dict[str, Any]]:
    """Run the dumper; one dict per test, in test_verifier's order."""
    proc = subprocess.run([str(exe)], capture_output=True)
    if proc.returncode != 0:
        raise KsftError(f"{exe} exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    out = []
    for n, line in enumerate(proc.stdout.split(b"\n"), 1):
        if line.strip():
            try:
                out.append(json.loads(line.decode("utf-8", "replace")))
            except json.JSONDecodeError as e:
                raise KsftError(f"{exe}: line {n} of its output is not JSON: {e}") from None
    return out


# ---------------------------------------------------------------------------------------------
# The C text of each test, for reports

def _top_level_blocks(text: str) -> list[str]:
    """The ``{ ... }`` blocks at brace depth 0 outside preprocessor lines, comments and literals."""
    blocks, depth, start, i, n = [], 0, 0, 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and depth == 0:
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == "#":  # a directive, with its continuation lines
                while j < n and not (text[j] == "\n" and text[j - 1] != "\\"):
                    j += 1
                i = j + 1
                continue
        at_line_start = False
        j = skip_comment_or_literal(text, i)
        if j != i:
            i = j
            continue
        if c == "\n":
            at_line_start = True
        elif c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                blocks.append(text[start: i + 1])
        i += 1
    return blocks


_FIRST_STRING = re.compile(r'\{\s*"((?:[^"\\]|\\.)*)"')


def test_sources(path: Path, descrs: list[str]) -> list[str | None]:
    """The C initializer of each test of one file, when the file's blocks match ``descrs`` one to one.

    A file that builds its tests through macros has no such one-to-one text:
    its entries are None.
    """
    try:
        blocks = _top_level_blocks(path.read_text(errors="replace"))
    except OSError:
        return [None] * len(descrs)
    if len(blocks) != len(descrs):
        return [None] * len(descrs)
    out: list[str | None] = []
    for block, descr in zip(blocks, descrs):
        m = _FIRST_STRING.match(block)
        literal = m.group(1) if m else None
        if literal is not None:
            try:
                literal = json.loads(f'"{literal}"')
            except json.JSONDecodeError:
                literal = None
        out.append(block if literal == descr else None)
    return out


# ---------------------------------------------------------------------------------------------
# JSON record -> Program

def prog_flags_of(test_flags: int) -> int:
    """The prog_flags test_verifier loads a test with (on x86, efficient unaligned access)."""
    flags = BPF_F_TEST_RND_HI32
    if test_flags & F_LOAD_WITH_STRICT_ALIGNMENT:
        flags |= BPF_F_STRICT_ALIGNMENT
    if test_flags & F_NEEDS_EFFICIENT_UNALIGNED_ACCESS:
        flags |= BPF_F_ANY_ALIGNMENT
    if test_flags & ~(F_NEEDS_EFFICIENT_UNALIGNED_ACCESS | F_LOAD_WITH_STRICT_ALIGNMENT):
        flags |= test_flags
    return flags


def _tags(file: str, insns: bytes, maps: tuple[MapSpec, ...], env_tag: str | None) -> tuple[str, ...]:
    codes = insns[0::INSN_SIZE]
    regs = insns[1::INSN_SIZE]
    tags = [size_class(len(codes)), "ksft", "ksft:" + file.removesuffix(".c")]
    if maps:
        tags.append("map")
    if any(m.btf is not None for m in maps):
        tags.append("btf_map")
    call_srcs = {regs[i] >> 4 for i in _positions(codes, _CALL)}
    if 0 in call_srcs:
        tags.append("helper")
    if _PSEUDO_CALL in call_srcs:
        tags.append("subprog")
    if _PSEUDO_KFUNC_CALL in call_srcs:
        tags.append("kfunc")
    if any(bytes((c,)) in codes for c in _LD_ABS_IND):
        tags.append("packet")
    if env_tag:
        tags.append(env_tag)
    return tuple(tags)


def _positions(codes: bytes, code: int) -> list[int]:
    """Indices of the slots whose opcode byte is ``code`` (fast on million-slot programs)."""
    out, needle, i = [], bytes((code,)), codes.find(bytes((code,)))
    while i >= 0:
        out.append(i)
        i = codes.find(needle, i + 1)
    return out


def convert(rec: dict[str, Any], source: str, pid: str, source_text: str | None = None,
            fixtures: dict[str, Callable[[], MapSpec]] | None = None,
            btf_extra: dict[str, Any] | None = None) -> Program | Skipped:
    """One dumper record -> a Program, or a Skipped saying why it cannot be one.

    ``fixtures`` replaces ``FIXTURES`` (``fixtures_with``); ``btf_extra`` goes into
    ``expect.extra`` of a test whose maps carry BTF (default: the kptr tags sent).
    """
    fixtures = FIXTURES if fixtures is None else fixtures
    name = rec["descr"] or ""
    file = rec.get("file", "?")
    index = int(rec.get("index", -1))

    def skip(reason: str, detail: str) -> Skipped:
        return Skipped(id=pid, name=name, file=f"verifier/{file}", index=index, reason=reason, detail=detail)

    kfixups = rec.get("kfunc_fixups") or []
    if kfixups:
        names = ", ".join(sorted({k["kfunc"] for k in kfixups}))
        return skip(SKIP_KFUNC, f"calls kfuncs that test_verifier patches in by their BTF id ({names}): "
                                "a Program record cannot name a kfunc (a call's imm would be a BTF id of one "
                                "kernel build); the bpf_kfunc_call_test* ones moved from vmlinux to the "
                                "bpf_testmod module after 6.1")
    prog_btf, func_info = None, ()
    if rec.get("btf_types") or rec.get("func_info_cnt"):
        if "btf_types_hex" not in rec and rec.get("btf_types"):
            return skip(SKIP_PROG_BTF, "loads program BTF, which this dumper did not print (rebuild it)")
        if not rec.get("btf_types"):
            return skip(SKIP_PROG_BTF, "func_info without BTF types: nothing for the records to refer to")
        try:
            prog_btf = _test_btf(rec)
            func_info = tuple((int(a), int(b)) for a, b in rec.get("func_info") or ())
        except (ValueError, TypeError) as e:
            return skip(SKIP_PROG_BTF, f"program BTF the dumper printed cannot be read: {e}")
    prog_type = int(rec.get("prog_type") or 0) or uapi.prog_type_num("socket_filter")
    # test_verifier looks .kfunc up as the attach target of tracing and LSM programs only
    attach_to = rec.get("kfunc") if prog_type in _BTF_ATTACHED else None
    verdict = _VERDICTS.get(rec.get("result"))
    if verdict is None:
        return skip(SKIP_UNKNOWN_RESULT, f"result {rec.get('result')!r} is not one of {', '.join(_VERDICTS)}")

    try:
        buf = bytearray.fromhex(rec["insns"])
    except (ValueError, TypeError) as e:
        return skip(SKIP_BAD_INSNS, f"instructions are not hex: {e}")
    if len(buf) % INSN_SIZE:
        return skip(SKIP_BAD_INSNS, f"instructions are {len(buf)} bytes, not a multiple of {INSN_SIZE}")
    codes = bytes(buf[0::INSN_SIZE])
    n_insns = len(codes)

    def is_map_ref(i: int) -> bool:  # the rule kernel_loader.patch_map_fds applies
        return codes[i] == _LD_IMM64 and (buf[i * INSN_SIZE + 1] >> 4) in _MAP_REF_SRCS

    maps: list[MapSpec] = []
    fixed: set[int] = set()
    for fx, positions in (rec.get("fixups") or {}).items():
        factory = fixtures.get(fx)
        if factory is None:
            return skip(SKIP_UNKNOWN_FIXTURE, f"fixup_{fx}: a fixture the importer does not know")
        idx = len(maps)
        maps.append(factory())
        for pos in positions:
            if not (0 <= pos < n_insns and is_map_ref(pos)):
                what = (str(decode(bytes(buf[pos * INSN_SIZE:(pos + 1) * INSN_SIZE]))[0])
                        if 0 <= pos < n_insns else f"outside the {n_insns}-slot program")
                return skip(SKIP_BAD_FIXUP, f"fixup_{fx} position {pos} is not a map-reference ld_imm64: {what}")
            _IMM.pack_into(buf, pos * INSN_SIZE + 4, idx)
            fixed.add(pos)
    # a map reference no fixture fills holds a raw fd number, which a Program (map indices) cannot say
    for i in _positions(codes, _LD_IMM64):
        if i not in fixed and is_map_ref(i):
            (fd,) = _IMM.unpack_from(buf, i * INSN_SIZE + 4)
            return skip(SKIP_RAW_MAP_FD, f"insn {i} references map fd {fd} directly (no fixup): "
                                         "Program records carry map indices")
    insns = bytes(buf)

    test_flags = int(rec.get("flags") or 0)
    extra: dict[str, Any] = {"ksft_file": f"verifier/{file}", "ksft_index": index, "result": rec.get("result")}
    if verdict == "accept" and rec.get("errstr"):
        extra["errstr"] = rec["errstr"]  # VERBOSE_ACCEPT: text the level-2 log must contain
    if rec.get("result_unpriv") not in (None, "UNDEF"):
        extra["result_unpriv"] = rec["result_unpriv"]
    if rec.get("errstr_unpriv"):
        extra["errstr_unpriv"] = rec["errstr_unpriv"]
    if rec.get("retval"):
        extra["retval"] = rec["retval"]
    if rec.get("retval_unpriv"):
        extra["retval_unpriv"] = rec["retval_unpriv"]
    if int(rec.get("runs") or 0) > 1:
        extra["retvals"] = rec.get("retvals")
    if test_flags:
        extra["flags"] = test_flags
    if rec.get("insn_processed"):
        extra["insn_processed"] = rec["insn_processed"]
    if rec.get("expected_insns") or rec.get("unexpected_insns"):
        extra["checks_xlated"] = True
    if rec.get("fill_helper"):
        extra["fill_helper"] = True
    if rec.get("kfunc"):
        extra["kfunc"] = rec["kfunc"]
    maps_t = tuple(maps)
    if any(m.btf is not None for m in maps_t):
        extra.update(btf_extra if btf_extra is not None else {"btf_kptr_tags": " ".join(KPTR_TAGS)})

    eat = int(rec.get("expected_attach_type") or 0)
    return Program(
        id=pid,
        source=source,
        name=name,
        prog_type=prog_type,
        insns=insns,
        maps=maps_t,
        expected_attach_type=eat or None,
        attach_to=attach_to,
        prog_flags=prog_flags_of(test_flags),
        tags=_tags(file, insns, maps_t, ENV_TAGS.get(eat) if prog_type in _BTF_ATTACHED else None),
        expect=Expect(verdict=verdict, message=(rec.get("errstr") or None) if verdict == "reject" else None,
                      extra=extra),
        source_text=source_text,
        source_lang="c" if source_text is not None else None,
        btf=prog_btf,
        func_info=func_info if prog_btf is not None else (),
    )


def _test_btf(rec: dict[str, Any]) -> bytes | None:
    """The raw BTF test_verifier loads for a test: a header, its types, its whole string array."""
    if not rec.get("btf_types"):
        return None
    types = bytes.fromhex(rec["btf_types_hex"])
    strings = bytes.fromhex(rec["btf_strings_hex"])
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


def unique_ids(source: str, names: list[str]) -> list[str]:
    """``source/name`` for each name; a repeated name (also after the report's file-name
    sanitising) gets `` #2``, `` #3``, ..."""
    from reports.paths import safe_name

    seen: set[str] = set()
    out = []
    for name in names:
        base = f"{source}/{name}"
        pid, n = base, 1
        while pid in seen or safe_name(pid) in seen:
            n += 1
            pid = f"{base} #{n}"
        seen.add(pid)
        seen.add(safe_name(pid))
        out.append(pid)
    return out


def convert_all(records: list[dict[str, Any]], version: str,
                sources: dict[tuple[str, int], str] | None = None,
                kptr_tags: tuple[str, str] = KPTR_TAGS,
                tree_tags: tuple[str, str] | None = None) -> tuple[list[Program], list[Skipped]]:
    """Every record as a Program or a Skipped; BTF-backed fixtures get ``kptr_tags``
    (``tree_tags``, the tree's own spelling, is recorded when it differs)."""
    source = f"ksft-{version}"
    ids = unique_ids(source, [r.get("descr") or f"{r.get('file')}#{r.get('index')}" for r in records])
    fixtures = fixtures_with(kptr_tags)
    btf_extra: dict[str, Any] = {"btf_kptr_tags": " ".join(kptr_tags)}
    if tree_tags is not None and tuple(tree_tags) != tuple(kptr_tags):
        btf_extra["btf_kptr_tags_tree"] = " ".join(tree_tags)
    programs: list[Program] = []
    skipped: list[Skipped] = []
    for rec, pid in zip(records, ids):
        text = (sources or {}).get((rec.get("file"), rec.get("index")))
        got = convert(rec, source, pid, text, fixtures, btf_extra)
        (programs if isinstance(got, Program) else skipped).append(got)
    return programs, skipped


# --kptr-tags: which spelling the BTF-backed fixtures send
KPTR_CHOICES = ("renamed", "tree")


def import_kernel_selftests(ksrc: Path, cache: Path | None = None,
                            kptr: str = "renamed") -> tuple[list[Program], list[Skipped]]:
    """Every test_verifier test of the tree at ``ksrc`` as a Program, or Skipped with its reason.

    ``kptr``: ``renamed`` sends the kptr tags as later kernels spell them, ``tree``
    as the tree's test_verifier.c does (see the module doc).
    """
    if kptr not in KPTR_CHOICES:
        raise KsftError(f"kptr spelling {kptr!r} is not one of {', '.join(KPTR_CHOICES)}")
    ksrc = Path(ksrc)
    version = kernel_version(ksrc)
    records = run_dumper(build_dumper(ksrc, cache))
    by_file: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_file.setdefault(r["file"], []).append(r)
    sources: dict[tuple[str, int], str] = {}
    vdir = selftests_dir(ksrc) / "verifier"
    for file, recs in by_file.items():
        for r, text in zip(recs, test_sources(vdir / file, [r["descr"] for r in recs])):
            if text is not None:
                sources[(file, r["index"])] = text
    tree_tags = tree_kptr_tags(ksrc)
    tags = KPTR_TAGS_RENAMED if kptr == "renamed" or tree_tags is None else tree_tags
    return convert_all(records, version, sources, tags, tree_tags)


def skipped_path(out: Path) -> Path:
    """``FILE.skipped.json`` next to ``FILE.jsonl``."""
    out = Path(out)
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(stem + ".skipped.json")


def write_skipped(skipped: list[Skipped], path: Path) -> None:
    counts = Counter(s.reason for s in skipped)
    doc = {"count": len(skipped), "by_reason": dict(sorted(counts.items())),
           "skipped": [s.to_dict() for s in skipped]}
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


def env_tags(p: Program) -> list[str]:
    """The ``needs:*`` tags of ``p``: what its load needs beyond bpf()."""
    return [t for t in p.tags if t.startswith(ENV_TAG_PREFIX)]


def summary(programs: list[Program], skipped: list[Skipped]) -> str:
    lines = [f"imported {len(programs)} programs, skipped {len(skipped)}"]
    verdicts = Counter(p.expect.verdict for p in programs)
    lines.append("  expected: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    btf = sum("btf_map" in p.tags for p in programs)
    if btf:
        spelling = next(p.expect.extra.get("btf_kptr_tags") for p in programs if "btf_map" in p.tags)
        lines.append(f"  with BTF-backed fixture maps: {btf} (kptr tags sent: {spelling})")
    env = [p for p in programs if env_tags(p)]
    if env:
        lines.append(f"  environment-limited (imported, tagged): {len(env)}")
        for p in env:
            lines.append(f"    {p.name} [{', '.join(env_tags(p))}]")
    for reason, n in Counter(s.reason for s in skipped).most_common():
        lines.append(f"  skipped ({reason}): {n}")
    return "\n".join(lines)


def import_to_file(ksrc: Path, out: Path, cache: Path | None = None, kptr: str = "renamed") -> int:
    """Import ``ksrc`` into ``out`` (JSON Lines) and ``FILE.skipped.json``; print the summary.

    Returns the exit status: 0, or 1 (with the reason on stderr) when the tree cannot be imported.
    """
    try:
        programs, skipped = import_kernel_selftests(Path(ksrc), cache, kptr)
    except KsftError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(programs, out)
    sp = skipped_path(out)
    write_skipped(skipped, sp)
    print(summary(programs, skipped))
    print(f"wrote {out} and {sp}")
    return 0


# ---------------------------------------------------------------------------------------------
# Agreement of a run with the tests' expectations

def cmp_str_seq(log: str, expected: str) -> bool:
    """test_verifier's check of ``errstr``: its tab-separated parts appear in the log in order."""
    pos = 0
    for part in expected.split("\t"):
        if not part:
            continue
        i = log.find(part, pos)
        if i < 0:
            return False
        pos = i + len(part)
    return True


def _read_log(run_dir: Path, rel: str | None) -> str | None:
    if not rel:
        return None
    try:
        return (run_dir / rel).read_text(errors="replace")
    except OSError:
        return None


def agreement(run_dir: Path, verifier_kind: str = "kernel") -> dict[str, Any]:
    """How the privileged verdicts of ``verifier_kind`` in the run at ``run_dir`` compare with
    the expectations of its programs (``programs.jsonl``).

    ``agreement`` counts every program with an expected verdict and a result; ``without_env``
    leaves out the environment-limited ones (tagged ``needs:*``). ``errors`` are rows where the
    tool, not the verifier, decided. ``messages``: of the expected rejections the verifier
    rejected, how many logs contain the test's ``errstr`` as test_verifier checks it (a
    rejection without errstr is not counted).
    """
    import csv

    from .corpus import load_jsonl

    run_dir = Path(run_dir)
    programs, errors = load_jsonl(run_dir / "programs.jsonl")
    if not programs:
        why = f" ({errors[0]})" if errors else ""
        raise KsftError(f"{run_dir}: no programs in programs.jsonl{why}; is it a run directory?")
    expected = {p.id: p for p in programs if p.expect.verdict is not None}
    rows: dict[str, dict[str, str]] = {}
    try:
        with open(run_dir / "results.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("verifier_kind", "") != verifier_kind or row.get("privileged") == "False":
                    continue
                rows[row["program_id"]] = row
    except OSError as e:
        raise KsftError(f"{run_dir}/results.csv: {e.strerror}") from None
    if not rows:
        raise KsftError(f"{run_dir}/results.csv has no privileged {verifier_kind!r} rows")

    def tally(ids: list[str]) -> dict[str, Any]:
        agree = sum(rows[i]["verdict"] == expected[i].expect.verdict for i in ids)
        return {"programs": len(ids), "agree": agree, "agreement": round(agree / len(ids), 4) if ids else None}

    ids = [i for i in expected if i in rows]
    env = [i for i in ids if env_tags(expected[i])]
    env_set = set(env)
    by_expected = {v: tally([i for i in ids if expected[i].expect.verdict == v]) for v in ("accept", "reject")}
    msg_checked = msg_found = 0
    msg_missing: list[str] = []
    for i in ids:
        p, row = expected[i], rows[i]
        if p.expect.verdict != "reject" or row["verdict"] != "reject" or not p.expect.message:
            continue
        log = _read_log(run_dir, row.get("log_path"))
        if log is None:
            continue
        msg_checked += 1
        if cmp_str_seq(log, p.expect.message):
            msg_found += 1
        else:
            msg_missing.append(i)
    verdicts = Counter(rows[i]["verdict"] for i in ids)
    return {
        "run": str(run_dir),
        "verifier": rows[ids[0]]["verifier"] if ids else None,
        **tally(ids),
        "verdicts": dict(sorted(verdicts.items())),
        "errors": verdicts.get("error", 0),
        "by_expected": by_expected,
        "environment_limited": [{"id": i, "tags": env_tags(expected[i]), "verdict": rows[i]["verdict"],
                                 "expected": expected[i].expect.verdict} for i in env],
        "without_env": tally([i for i in ids if i not in env_set]),
        "disagreements": [{"id": i, "expected": expected[i].expect.verdict, "got": rows[i]["verdict"],
                           "message": rows[i].get("message", "")}
                          for i in ids if rows[i]["verdict"] != expected[i].expect.verdict and i not in env_set],
        "messages": {"checked": msg_checked, "found": msg_found, "missing": msg_missing},
        "not_in_run": sorted(set(expected) - set(rows)),
    }


def _pct(t: dict[str, Any]) -> str:
    a = t.get("agreement")
    return f"{t['agree']}/{t['programs']}" + (f" ({100 * a:.2f}%)" if a is not None else "")


def format_agreement(a: dict[str, Any]) -> str:
    lines = [f"{a['run']}: {a['verifier']} verdicts as the tests expect: {_pct(a)}",
             f"  without the {len(a['environment_limited'])} environment-limited tests: {_pct(a['without_env'])}",
             "  verdicts: " + ", ".join(f"{k} {v}" for k, v in a["verdicts"].items()),
             "  expected accept: " + _pct(a["by_expected"]["accept"]),
             "  expected reject: " + _pct(a["by_expected"]["reject"])]
    m = a["messages"]
    if m["checked"]:
        lines.append(f"  errstr in the log of agreeing rejections: {m['found']}/{m['checked']} "
                     f"({100 * m['found'] / m['checked']:.2f}%)")
    for e in a["environment_limited"]:
        lines.append(f"  environment-limited: {e['id']} [{', '.join(e['tags'])}] -> {e['verdict']} "
                     f"(expected {e['expected']})")
    for d in a["disagreements"]:
        lines.append(f"  differs: {d['id']}: expected {d['expected']}, got {d['got']}: {d['message'][:100]}")
    if a["not_in_run"]:
        lines.append(f"  {len(a['not_in_run'])} programs have no result in the run")
    return "\n".join(lines)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The command-line arguments (shared with ``verifier-diff corpus import-kernel-selftests``)."""
    ap.add_argument("ksrc", type=Path, help="root of the kernel source tree (its Makefile, tools/ and include/)")
    ap.add_argument("--out", type=Path, required=True,
                    help="the JSON Lines file to write; the skip list goes next to it as FILE.skipped.json")
    ap.add_argument("--cache", type=Path, default=None,
                    help="where the compiled dumper is kept (default $VERIFIER_DIFF_CACHE or "
                         "~/.cache/verifier-diff)")
    _kptr_argument(ap)


def _kptr_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--kptr-tags", choices=KPTR_CHOICES, default="renamed",
                    help="kptr type tags of the BTF-backed fixture maps: 'renamed' (kptr_untrusted/kptr, "
                         "what later kernels such as 6.18 read; default) or 'tree' (the tree's own spelling)")


EPILOG = ("KSRC needs the tree's Makefile, tools/ and include/, e.g. apt-get install linux-source-6.1 && "
          "tar xf /usr/src/linux-source-6.1.tar.xz -C /var/cache/verifier-diff linux-source-6.1/Makefile "
          "linux-source-6.1/tools linux-source-6.1/include. Needs gcc.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m selftests.kernel_selftests",
        description="Import the kernel's test_verifier tests (tools/testing/selftests/bpf/verifier/*.c) "
                    "from a kernel source tree as a JSON Lines corpus, or (--agreement) compare a run of "
                    "that corpus with the tests' expectations.",
        epilog=EPILOG,
    )
    ap.add_argument("ksrc", type=Path, nargs="?",
                    help="root of the kernel source tree (its Makefile, tools/ and include/)")
    ap.add_argument("--out", type=Path,
                    help="the JSON Lines file to write; the skip list goes next to it as FILE.skipped.json")
    ap.add_argument("--cache", type=Path, default=None,
                    help="where the compiled dumper is kept (default $VERIFIER_DIFF_CACHE or "
                         "~/.cache/verifier-diff)")
    _kptr_argument(ap)
    ap.add_argument("--agreement", type=Path, metavar="RUN_DIR",
                    help="instead of importing: compare the kernel verdicts of a run of the corpus "
                         "with the tests' expectations")
    ap.add_argument("--verifier-kind", default="kernel", help="with --agreement: whose rows (default kernel)")
    ap.add_argument("--json", action="store_true", help="with --agreement: print the figures as JSON")
    args = ap.parse_args(argv)
    if args.agreement is not None:
        try:
            a = agreement(args.agreement, args.verifier_kind)
        except KsftError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(json.dumps(a, indent=1) if args.json else format_agreement(a))
        return 0
    if args.ksrc is None or args.out is None:
        ap.error("KSRC and --out are needed to import (or --agreement RUN_DIR)")
    return import_to_file(args.ksrc, args.out, args.cache, args.kptr_tags)


if __name__ == "__main__":
    sys.exit(main())
