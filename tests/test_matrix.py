"""kernel_loader.matrix: the batch and output formats, the orchestration around a boot, and one real boot of 6.1."""
from __future__ import annotations

import errno as E
import lzma
import os
import shutil
import struct
import zlib

import pytest

from kernel_loader.btf import BtfBuilder, BtfLoadError
from kernel_loader.maps import MapCreateError
from kernel_loader.matrix import batch, batchrun, bootimage, initramfs, output, qemu
from kernel_loader.matrix.kernels import CachedKernel, available_kernels, cached
from kernel_loader.outcome import apply_outcome
from kernel_loader.syscall import BpfError
from pyverifier import uapi
from pyverifier.insn import Insn, encode
from pyverifier.program import MapSpec, Program
from pyverifier.result import Result, parse_log_stats

R0_0 = Insn(0xB7, 0, 0, 0, 0)
EXIT = Insn(0x95, 0, 0, 0, 0)


def prog(insns, name="t", prog_type=1, maps=(), **kw):
    return Program(id=f"test/{name}", source="test", name=name, prog_type=prog_type, insns=encode(insns),
                   maps=tuple(maps), **kw)


def lookup_prog(name="lookup", map_type=1):
    return prog([
        Insn(0x62, 10, 0, -4, 0),  # *(u32 *)(r10 -4) = 0
        Insn(0x18, 1, 1, 0, 0), Insn(0, 0, 0, 0, 0),  # r1 = map[0]
        Insn(0xBF, 2, 10, 0, 0),  # r2 = r10
        Insn(0x07, 2, 0, 0, -4),  # r2 += -4
        Insn(0x85, 0, 0, 0, 1),  # call bpf_map_lookup_elem
        Insn(0x15, 0, 0, 1, 0),  # if r0 == 0 goto +1
        Insn(0x61, 0, 0, 0, 0),  # r0 = *(u32 *)(r0 +0)
        EXIT,
    ], name=name, maps=[MapSpec("m", map_type, 4, 8, 16)])


# ---------------------------------------------------------------- batch format

def test_batch_round_trip_keeps_every_field():
    inner = MapSpec("inner", 2, 4, 4, 1)
    btf = b"\x9f\xeb\x01\x00" + bytes(40)  # only carried, not parsed
    with_btf = MapSpec("spin", 2, 4, 16, 1, btf=btf, btf_key_type_id=1, btf_value_type_id=3)
    progs = [
        (0, prog([R0_0, EXIT], name="a.b-c/dd_eeeeeeeeeeeeeeee"), 0),
        (7, prog([R0_0, EXIT], name="x", prog_type=26, expected_attach_type=24, prog_flags=1, license="Dual BSD/GPL",
                 maps=[MapSpec("outer map", 12, 4, 4, 2, flags=0, inner=inner),
                       MapSpec(".rodata", 2, 4, 16, 1, init=b"\x01\x02\x03", frozen=True),
                       MapSpec("h", 1, 8, 8, 10, flags=1), with_btf]), 4242),
    ]
    level, entries = batch.decode_batch(batch.encode_batch(progs, 6))
    assert level == 6
    assert [e.index for e in entries] == [0, 7]
    a, b = entries
    assert a.name == b"a_b_c_dd_eeeeee" and a.license == b"GPL" and a.insns == progs[0][1].insns
    assert (b.prog_type, b.expected_attach_type, b.prog_flags, b.license) == (26, 24, 1, b"Dual BSD/GPL")
    assert (a.attach_btf_id, b.attach_btf_id) == (0, 4242)
    assert b.maps[0].name == "outer_map" and b.maps[0].inner == inner
    assert b.maps[1] == MapSpec(".rodata", 2, 4, 16, 1, init=b"\x01\x02\x03", frozen=True)
    assert b.maps[2].flags == 1 and b.maps[2].init is None and b.maps[2].btf is None
    assert b.maps[3] == with_btf
    assert a.expected_attach_type == 0  # None is sent as 0, as kernel_loader.load sends it


def test_batch_decode_refuses_truncated_and_trailing_bytes():
    data = batch.encode_batch([(0, lookup_prog(), 0)], 6)
    for cut in (3, 12, len(data) - 1):
        with pytest.raises(batch.BatchFormatError):
            batch.decode_batch(data[:cut])
    with pytest.raises(batch.BatchFormatError, match="after the last program"):
        batch.decode_batch(data + b"\0")


def test_batch_carries_the_repeat_count():
    progs = [(0, prog([R0_0, EXIT]), 0), (3, lookup_prog(), 0)]
    data = batch.encode_batch(progs, 6, repeat=5)
    assert data[:4] == batch.MAGIC == b"VDB4"
    b = batch.read_batch(data)
    assert (b.log_level, b.repeat, [e.index for e in b.entries]) == (6, 5, [0, 3])
    assert batch.decode_batch(data) == (6, b.entries)  # the two-field form still reads it
    assert batch.read_batch(batch.encode_batch(progs, 6)).repeat == 1  # the default: one load
    for bad in (0, -1, batch.MAX_REPEAT + 1):
        with pytest.raises(ValueError, match="repeat"):
            batch.encode_batch(progs, 6, repeat=bad)
    zero = bytearray(data)
    struct.pack_into("<I", zero, 12, 0)  # the repeat field of the header
    with pytest.raises(batch.BatchFormatError, match="0 repetitions"):
        batch.read_batch(bytes(zero))


def _encode_v3(progs, log_level, repeat):
    """A "VDB3" batch as the previous version wrote it: no program BTF fields."""
    parts = [struct.pack("<4sIII", b"VDB3", log_level, len(progs), repeat)]
    for index, p, btf_id in progs:
        name = batch.prog_name(p)
        parts.append(struct.pack("<IIIIIIIHH", index, p.prog_type, p.expected_attach_type or 0, p.prog_flags, btf_id,
                                 p.insn_count, len(p.maps), len(name), 3))
        parts += [name, b"GPL", p.insns]
        for m in p.maps:
            batch._encode_map(m, parts)
    return b"".join(parts)


def test_older_batches_read_without_program_btf():
    progs = [(0, prog([R0_0, EXIT]), 0), (3, lookup_prog(), 7)]
    v4 = batch.read_batch(batch.encode_batch(progs, 6, repeat=4))
    v3 = _encode_v3(progs, 6, 4)
    v2 = b"VDB2" + v3[4:12] + v3[16:]  # the version before: no repeat field either
    b2, b3 = batch.read_batch(v2), batch.read_batch(v3)
    assert (b3.log_level, b3.repeat, b3.entries) == (6, 4, v4.entries)
    assert (b2.log_level, b2.repeat, b2.entries) == (6, 1, v4.entries)
    with pytest.raises(batch.BatchFormatError, match="VDB4"):
        batch.read_batch(b"VDB1" + v3[4:])


def _prog_btf():
    """A BTF blob with two FUNCs and two source lines, the func_info and line_info records pointing into it."""
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=0)
    cb = b.func("cb", b.func_proto(i, [("idx", i), ("data", b.ptr(0))]), linkage=0)
    f, l0, l1 = b._str("prog.c"), b._str("return bpf_loop(3, cb, 0, 0);"), b._str("return 0;")
    return b.encode(), ((0, main), (8, cb)), ((0, f, l0, (3 << 10) | 5), (8, f, l1, (7 << 10) | 2))


def test_batch_carries_program_btf():
    blob, fi, li = _prog_btf()
    with_btf = prog([R0_0, EXIT, R0_0, EXIT], name="with_btf", maps=[MapSpec("m", 2, 4, 8, 1)], btf=blob,
                    func_info=((0, 2), (2, 3)), line_info=li[:1])
    only_btf = prog([R0_0, EXIT], name="only_btf", btf=blob)  # a blob without records goes alone
    stray = prog([R0_0, EXIT], name="stray", func_info=fi, line_info=li)  # records without a blob: not sent
    data = batch.encode_batch([(0, with_btf, 0), (1, only_btf, 0), (2, stray, 0), (3, lookup_prog(), 0)], 4)
    a, b, c, d = batch.read_batch(data).entries
    assert (a.btf, a.func_info, a.line_info) == (blob, ((0, 2), (2, 3)), li[:1])
    assert a.maps == (MapSpec("m", 2, 4, 8, 1),) and a.insns == with_btf.insns
    assert (b.btf, b.func_info, b.line_info) == (blob, (), ())
    assert (c.btf, c.func_info, c.line_info) == (None, (), ())  # as kernel_loader.load: no blob, no records
    assert d.btf is None and d.maps == lookup_prog().maps
    for cut in range(len(data) - 1, 16, -97):
        with pytest.raises(batch.BatchFormatError):
            batch.read_batch(data[:cut])
    # a record that names func_info but carries no blob is refused (vdload.c refuses it too)
    one = bytearray(batch.encode_batch([(0, prog([R0_0, EXIT], name="x"), 0)], 4))
    struct.pack_into("<I", one, 16 + 4 * 8, 1)  # func_info_count of the first program
    one += struct.pack("<II", 0, 1)
    with pytest.raises(batch.BatchFormatError, match="no BTF"):
        batch.read_batch(bytes(one))


def test_initramfs_holds_init_batch_and_console():
    arc = initramfs.build(b"\x7fELF...", {"batch": b"VDB1xyz"})
    files = initramfs.read(arc)
    assert files["init"] == (0o100755, b"\x7fELF...")
    assert files["batch"][1] == b"VDB1xyz"
    assert files["dev/console"][0] == 0o020600 and files["sys"][0] == 0o040755
    assert len(arc) % 4 == 0


# ---------------------------------------------------------------- output format

def raw(index, status, ret, log="", detail=0, wall_ns=1000):
    return output.RawResult(index, status, ret, detail, wall_ns, len(log.encode()), log)


RAWS = [
    raw(0, output.LOADED, 4, "0: (b7) r0 = 0\nok\n", wall_ns=1500),
    output.RawResult(1, output.LOADED, 7, 0, 900, 3, "ok\n", 0, (12, 96, 71)),
    raw(3, output.LOADED, -E.EACCES, "0: (95) exit\nR0 !read_ok \u00e9\n"),
    raw(5, output.MAP_FAILED, -E.EINVAL, detail=1),
    raw(6, output.NO_MEMORY, -E.ENOMEM, detail=1 << 28),
]


def stream(*parts: bytes, pad: int = 4096) -> bytes:
    data = b"".join(parts)
    return data + b"\0" * pad  # the rest of the (zeroed) shared region


def test_output_round_trip():
    out = output.parse(stream(output.hello(5, "6.1.0-56-amd64"), *map(output.result, RAWS), output.done(5)))
    assert out.release == "6.1.0-56-amd64" and out.count == 5 and out.done == 5
    assert out.results == {r.index: r for r in RAWS} and out.order == [0, 1, 3, 5, 6]
    assert out.garbage_at is None and out.fatal is None and out.full_at is None


def test_output_cut_inside_a_record_keeps_the_complete_ones():
    whole = output.hello(3, "6.12.1") + b"".join(map(output.result, RAWS))
    cut_at = len(whole) - 10  # inside the last record: its trailer is missing
    out = output.parse(stream(whole[:cut_at]))
    assert sorted(out.results) == [r.index for r in RAWS[:-1]]
    assert out.done is None and out.garbage_at is not None


def test_output_record_without_its_leading_magic_is_not_read():
    rec = bytearray(output.result(RAWS[0]))
    rec[:3] = b"\0\0\0"  # the guest writes the magic last: a crash before it leaves this
    out = output.parse(stream(output.hello(1, "r"), bytes(rec)))
    assert out.results == {} and out.release == "r"


def test_timed_result_round_trip():
    timed = [
        output.RawResult(0, output.LOADED, 4, 0, 9000, 3, "ok\n", 0, (2, 16, 11), ((4, 120), (5, 80), (4, 95))),
        output.RawResult(1, output.LOADED, -E.EACCES, 0, 800, 0, "", 0, None, ((-E.EACCES, None), (-E.EACCES, 7))),
        output.RawResult(2, output.MAP_FAILED, -E.EINVAL, 1, 10, 0, "", 0, None, ()),  # no load ran
        output.RawResult(3, output.LOADED, 6, 0, 1, 0, "", 0, None, ((6, 1 << 40),)),  # u64 times
    ]
    recs = [output.result(r) for r in timed]
    assert all(rec[3] == output.TIMED_RESULT for rec in recs)
    assert output.result(RAWS[0])[3] == output.RESULT  # no repetitions: the previous record kind
    old = raw(9, output.LOADED, 4, "verification time 5 usec\n")
    out = output.parse(stream(output.hello(5, "6.12.1"), *recs, output.result(old), output.done(5)))
    assert out.garbage_at is None and out.order == [0, 1, 2, 3, 9]
    assert [out.results[i] for i in (0, 1, 2, 3)] == timed
    assert out.results[9] == old and out.results[9].reps is None  # a RESULT record is still read


def test_timed_result_with_damaged_repetitions_is_not_read():
    good = output.RawResult(0, output.LOADED, 4, 0, 1, 3, "ok\n", 0, None, ((4, 1), (5, 2)))
    rec = bytearray(output.result(good))
    struct.pack_into("<I", rec, 8 + 48, 9)  # rep_count beyond the record
    assert output.parse(stream(output.hello(1, "r"), bytes(rec))).garbage_at is not None
    other = output.RawResult(0, output.LOADED, 4, 0, 1, 3, "ok\n", 0, None, ((-1, 1), (5, 2)))
    out = output.parse(stream(output.hello(1, "r"), output.result(other)))  # the first rep is not the record's load
    assert out.results == {} and out.garbage_at is not None


def test_output_fatal_and_full_records():
    out = output.parse(stream(output.hello(2, "r"), output.full(1), output.done(1), output.fatal("boom")))
    assert (out.full_at, out.done, out.fatal) == (1, 1, "boom")


def test_output_parse_survives_garbage():
    for junk in (b"VDR\x02" + struct.pack("<I", 1 << 30), b"VDR\x09" + struct.pack("<I", 0) + b"VDE\x09", b"\xff" * 40):
        out = output.parse(stream(output.hello(1, "r"), junk))
        assert out.release == "r" and out.results == {} and out.garbage_at is not None


# ---------------------------------------------------------------- verdicts from guest records

def fresh(p: Program) -> Result:
    return Result(program_id=p.id, verifier="kernel-x", verdict="error", log_level=2)


def from_raw(p: Program, raw_result: output.RawResult) -> Result:
    return batchrun.result_from_raw(p, raw_result, fresh(p))


def test_outcome_rules_are_kernel_loaders():
    p = prog([R0_0, EXIT])
    log = "0: (b7) r0 = 0\nverification time 12 usec\nstack depth 0\n" \
          "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"
    ok = from_raw(p, output.RawResult(0, output.LOADED, 5, 0, 2000, len(log), log, 0, (2, 16, 11)))
    assert (ok.verdict, ok.stage, ok.insns_processed, ok.stack_depth, ok.verify_us, ok.wall_us) == \
        ("accept", "verifier", 2, [0], [12.0], 2.0)
    assert (ok.verified_insns, ok.xlated_prog_len, ok.jited_prog_len) == (2, 16, 11)
    for ret, text in ((-E.EACCES, "0: (95) exit\nR0 !read_ok\nverification time 3 usec\n"), (-E.EPERM, ""),
                      (-E.EINVAL, ""), (-524, ""), (-E.ENOSPC, "x")):
        got = from_raw(p, output.RawResult(0, output.LOADED, ret, 0, 1, len(text), text))
        want = apply_outcome(fresh(p), ret, text)
        assert (got.verdict, got.stage, got.errno, got.message) == (want.verdict, want.stage, want.errno, want.message)
    rej = from_raw(p, output.RawResult(0, output.LOADED, -E.EACCES, 0, 1, 0, "R0 !read_ok\n"))
    assert (rej.verdict, rej.message) == ("reject", "R0 !read_ok")


def test_every_repetition_time_is_kept():
    p = prog([R0_0, EXIT])
    log = "0: (b7) r0 = 0\nverification time 12 usec\nstack depth 0\n"
    r = from_raw(p, output.RawResult(0, output.LOADED, 5, 0, 2000, len(log), log, 0, None,
                                     ((5, 12), (6, 9), (5, None), (7, 11))))
    assert (r.verdict, r.stage, r.stack_depth) == ("accept", "verifier", [0])
    assert r.verify_us == [12.0, 9.0, 11.0]  # a load whose log had no time adds none, as on the host
    rej = from_raw(p, output.RawResult(0, output.LOADED, -E.EACCES, 0, 1, 12, "R0 !read_ok\n", 0, None,
                                       ((-E.EACCES, 3), (-E.EACCES, 4))))
    assert (rej.verdict, rej.message, rej.verify_us) == ("reject", "R0 !read_ok", [3.0, 4.0])


def test_verdict_changing_between_repetitions_is_an_error_as_on_the_host():
    from kernel_loader.outcome import repetition_changed

    p = prog([R0_0, EXIT])
    log = "0: (b7) r0 = 0\nverification time 12 usec\n"
    r = from_raw(p, output.RawResult(0, output.LOADED, 5, 0, 1, len(log), log, 0, (2, 16, 11),
                                     ((5, 12), (5, 10), (-E.ENOMEM, None))))
    assert (r.verdict, r.stage, r.message) == ("error", "verifier", repetition_changed(2, -E.ENOMEM))
    assert r.message == f"kernel verdict changed between repetitions (rep 2: {-E.ENOMEM})"
    assert r.log == log and r.verified_insns == 2 and r.verify_us == []
    back = from_raw(p, output.RawResult(0, output.LOADED, -E.EACCES, 0, 1, 0, "", 0, None,
                                        ((-E.EACCES, 1), (4, 1))))
    assert back.verdict == "error" and back.message == repetition_changed(1, 4)


def test_map_failures_read_like_kernel_loaders():
    mp = lookup_prog(map_type=33)
    bad = from_raw(mp, output.RawResult(0, output.MAP_FAILED, -E.EINVAL, 0, 1, 0, ""))
    assert (bad.verdict, bad.stage, bad.errno) == ("error", "maps", E.EINVAL)
    assert bad.message == str(MapCreateError(mp.maps[0], 0, BpfError(E.EINVAL, os.strerror(E.EINVAL))))
    btf_log = "magic: 0xeb9f\n[1] STRUCT foo size=4 vlen=1\n\tx type_id=9 bits_offset=0 Invalid member\n"
    bb = from_raw(mp, output.RawResult(0, output.MAP_BTF_FAILED, -E.EINVAL, 0, 1, len(btf_log), btf_log))
    e = BtfLoadError(BpfError(E.EINVAL, os.strerror(E.EINVAL)), btf_log)
    assert bb.message == str(MapCreateError(mp.maps[0], 0, BpfError(E.EINVAL, os.strerror(E.EINVAL)),
                                            f"its BTF was refused: {e}"))
    assert bb.message.endswith("Invalid member") and bb.stage == "maps"
    oom = from_raw(mp, output.RawResult(0, output.NO_MEMORY, -E.ENOMEM, 1 << 28, 1, 0, ""))
    assert oom.verdict == "error" and "268435456-byte" in oom.message


def test_refused_program_btf_reads_like_kernel_loaders():
    blob, fi, _ = _prog_btf()
    p = prog([R0_0, EXIT], btf=blob[:-3], func_info=fi[:1])
    btf_log = "magic: 0xeb9f\nversion: 1\n...\nInvalid string section\n"
    r = from_raw(p, output.RawResult(0, output.PROG_BTF_FAILED, -E.EINVAL, 0, 1, len(btf_log), btf_log))
    e = BtfLoadError(BpfError(E.EINVAL, os.strerror(E.EINVAL)), btf_log)
    assert (r.verdict, r.stage, r.errno) == ("error", "program", E.EINVAL)
    assert r.message == f"program BTF refused by the kernel: {e}"  # kernel_loader.load's words
    assert r.message.endswith("Invalid string section")


def test_bad_map_reference_reads_like_kernel_loaders():
    bad_ref = prog([Insn(0x18, 1, 1, 0, 3), Insn(0, 0, 0, 0, 0), R0_0, EXIT])
    r = from_raw(bad_ref, output.RawResult(0, output.BAD_MAP_REF, -E.EINVAL, 0, 1, 0, ""))
    assert r.stage == "program" and r.message == "malformed program: insn 0: map reference to index 3, but the program has 0 maps"


def test_cut_log_is_marked_and_still_decides():
    p = prog([R0_0, EXIT])
    tail = "R0 !read_ok\nverification time 3 usec\n"
    r = from_raw(p, output.RawResult(0, output.LOADED, -E.EACCES, 0, 1, 5000, tail, 5000 - len(tail)))
    assert r.verdict == "reject" and r.message == "R0 !read_ok"
    assert r.log.startswith("[verifier-diff: the first") and r.log.endswith(tail)


def _btf_file(tmp_path) -> str:
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    proto = b.func_proto(i32, [("x", i32)])
    b.typedef("int_t", i32)  # ids shift: the target is not type 1
    b.func("do_unlinkat", proto)
    b.typedef("btf_trace_sched_switch", proto)
    path = tmp_path / "vmlinux.btf"
    path.write_bytes(b.encode())
    return str(path)


def test_prepare_resolves_attach_targets_in_the_guest_kernels_btf(tmp_path):
    btf = _btf_file(tmp_path)
    tracing, fentry, raw_tp = uapi.PROG_TYPES["tracing"], uapi.ATTACH_TYPES["trace_fentry"], uapi.ATTACH_TYPES["trace_raw_tp"]
    fe = prog([R0_0, EXIT], prog_type=tracing, expected_attach_type=fentry, attach_to="do_unlinkat")
    res = fresh(fe)
    assert batchrun.prepare(fe, btf, res) == 4 and res.attach_btf_id == 4
    tp = prog([R0_0, EXIT], prog_type=tracing, expected_attach_type=raw_tp, attach_to="sched_switch")
    assert batchrun.prepare(tp, btf, fresh(tp)) == 5
    missing = prog([R0_0, EXIT], prog_type=tracing, expected_attach_type=fentry, attach_to="nope")
    res = fresh(missing)
    assert batchrun.prepare(missing, btf, res) is None
    assert res.stage == "attach_target" and "'nope' not found" in res.message
    assert res.message.startswith("load not attempted: ")
    ext = prog([R0_0, EXIT], prog_type=uapi.PROG_TYPES["ext"])
    res = fresh(ext)
    assert batchrun.prepare(ext, btf, res) is None and "freplace" in res.message
    plain = prog([R0_0, EXIT])
    res = fresh(plain)
    assert batchrun.prepare(plain, btf, res) == 0 and res.attach_btf_id is None
    res = fresh(fe)
    assert batchrun.prepare(fe, str(tmp_path / "absent.btf"), res) is None
    assert res.stage == "attach_target" and "cannot read the kernel's BTF" in res.message


# ---------------------------------------------------------------- orchestration with a scripted guest

class ScriptedGuest:
    """Stands in for qemu.boot: each boot answers from the batch it was given, following a script."""

    def __init__(self, script):
        self.script = list(script)  # per boot: "crash_after:N" | "all" | "full_after:N" | "no_boot" | "fatal"
        self.batches: list[list[int]] = []
        self.repeats: list[int] = []
        self.levels: list[int] = []
        self.timeouts: list[float] = []

    def __call__(self, image, initrd, timeout, out_size=0, memory_mb=0):
        b = batch.read_batch(initramfs.read(initrd)["batch"][1])
        idx = [e.index for e in b.entries]
        self.batches.append(idx)
        self.repeats.append(b.repeat)
        self.levels.append(b.log_level)
        self.timeouts.append(timeout)
        step = self.script.pop(0)
        parts = [] if step == "no_boot" else [output.hello(len(idx), "9.9.9-test")]

        def res(i):  # every load accepted, the k-th taking 100 * (i + 1) + k usec
            reps = tuple((3, 100 * (i + 1) + k) for k in range(b.repeat))
            return output.result(output.RawResult(i, output.LOADED, 3, 0, 10, 0, "", 0, None, reps))
        if step == "all":
            parts += [res(i) for i in idx] + [output.done(len(idx))]
        elif step.startswith("crash_after:"):
            parts += [res(i) for i in idx[: int(step.split(":")[1])]]
        elif step.startswith("full_after:"):
            n = int(step.split(":")[1])
            parts += [res(i) for i in idx[:n]] + [output.full(n), output.done(n)]
        elif step == "fatal":
            parts.append(output.fatal("cannot open /batch"))
        console = "[    1.0] BUG: kernel NULL pointer dereference\n[    1.1] Kernel panic - not syncing: Fatal exception"
        return qemu.Boot(output.parse(stream(*parts)), console, 0, 0.5)


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    loader = tmp_path / "vdload"
    loader.write_bytes(b"not really an ELF")
    kern = CachedKernel("9.9", tmp_path / "vmlinuz", "9.9.9-cached", "pkg", "1")
    monkeypatch.setattr(batchrun, "fetch", lambda v: kern)
    monkeypatch.setattr(batchrun, "ensure_loader", lambda: loader)
    monkeypatch.setattr(qemu, "qemu_binary", lambda: "/bin/true")

    def make(script):
        g = ScriptedGuest(script)
        monkeypatch.setattr(qemu, "boot", g)
        return g
    return make


def test_crash_names_the_program_in_flight_and_the_rest_run_again(scripted):
    g = scripted(["crash_after:2", "all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(5)]
    st = batchrun.BatchStats()
    res = batchrun.verify_batch("9.9", progs, stats=st)
    assert [r.program_id for r in res] == [p.id for p in progs]
    assert [r.verdict for r in res] == ["accept", "accept", "error", "accept", "accept"]
    assert "stopped early" in res[2].message and "while verifying this program" in res[2].message
    assert "Kernel panic" in res[2].message and "NULL pointer" in res[2].log
    assert g.batches == [[0, 1, 2, 3, 4], [3, 4]] and st.boots == 2
    assert {r.verifier for r in res} == {"kernel-9.9.9-test"}


def test_full_region_continues_without_error_rows(scripted):
    g = scripted(["full_after:3", "all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(5)]
    res = batchrun.verify_batch("9.9", progs)
    assert [r.verdict for r in res] == ["accept"] * 5
    assert g.batches == [[0, 1, 2, 3, 4], [3, 4]]


def test_boot_failure_gives_every_program_an_error_row(scripted):
    scripted(["no_boot"])
    tp = prog([R0_0, EXIT], name="tp", prog_type=uapi.PROG_TYPES["tracing"],
              expected_attach_type=uapi.ATTACH_TYPES["trace_fentry"], attach_to="x")
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(3)] + [tp]
    res = batchrun.verify_batch("9.9", progs)
    assert [r.verdict for r in res] == ["error"] * 4
    assert all(r.message.startswith("kernel 9.9: boot failed") for r in res[:3])
    assert res[3].stage == "attach_target"  # decided before the boot (no BTF here), as kernel_loader.load decides it
    assert {r.verifier for r in res} == {"kernel-9.9.9-cached"}  # the guest never said its release


def test_guest_fatal_is_reported_once_per_program(scripted):
    g = scripted(["fatal"])
    res = batchrun.verify_batch("9.9", [prog([R0_0, EXIT], name=f"p{i}") for i in range(2)])
    assert all("cannot open /batch" in r.message for r in res) and len(g.batches) == 1


def test_repeated_crashes_stop(scripted):
    n = batchrun.MAX_CRASH_REBOOTS + 3
    g = scripted(["crash_after:0"] * (batchrun.MAX_CRASH_REBOOTS + 1))
    res = batchrun.verify_batch("9.9", [prog([R0_0, EXIT], name=f"p{i}") for i in range(n)])
    assert len(g.batches) == batchrun.MAX_CRASH_REBOOTS + 1
    assert all(r.verdict == "error" for r in res) and len(res) == n


def test_repeat_reaches_the_guest_and_every_time_comes_back(scripted):
    g = scripted(["crash_after:1", "all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(4)]
    res = batchrun.verify_batch("9.9", progs, repeat=3)
    assert g.repeats == [3, 3] and g.batches == [[0, 1, 2, 3], [2, 3]]
    assert g.timeouts[0] == batchrun.BASE_TIMEOUT_S + batchrun.PER_PROGRAM_TIMEOUT_S * 4 * 3
    assert [r.verdict for r in res] == ["accept", "error", "accept", "accept"]
    assert res[0].verify_us == [100.0, 101.0, 102.0] and res[3].verify_us == [400.0, 401.0, 402.0]
    with pytest.raises(ValueError, match="repeat"):
        batchrun.verify_batch("9.9", progs, repeat=0)


def test_guests_load_with_statistics_only_unless_asked(scripted):
    g = scripted(["all", "all", "all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(2)]
    default = batchrun.verify_batch("9.9", progs)
    full = batchrun.verify_batch("9.9", progs, log_level=2)
    one = batchrun.verify_batch("9.9", progs, log_level=1)
    assert g.levels == [4, 6, 5]  # BPF_LOG_STATS alone, else the level with the statistics flag
    assert [r.log_level for r in default + full + one] == [4, 4, 2, 2, 1, 1]
    for bad in (0, 3, 6):
        with pytest.raises(ValueError, match="guest log level"):
            batchrun.verify_batch("9.9", progs, log_level=bad)
    assert len(g.batches) == 3


def test_guest_log_level_options():
    from compare.cli import build_parser
    from kernel_loader.matrix.__main__ import main as matrix_main

    from compare.runner import GUEST_LOG_LEVEL, RunOptions

    assert GUEST_LOG_LEVEL == RunOptions().guest_log_level == batchrun.GUEST_LOG_LEVEL == 4
    ap = build_parser()
    assert ap.parse_args(["run", "--kernels", "host,6.1"]).guest_log_level is None  # run's default: 4
    assert ap.parse_args(["run", "--kernels", "host,6.1", "--guest-log-level", "2"]).guest_log_level == 2
    assert ap.parse_args(["verify", "x.s", "--guest-log-level", "4"]).guest_log_level == 4
    with pytest.raises(SystemExit):
        ap.parse_args(["run", "--guest-log-level", "3"])
    with pytest.raises(SystemExit):
        matrix_main(["verify", "6.1", "--guest-log-level", "0"])


def test_run_records_the_guest_log_level(scripted, tmp_path):
    import json

    from compare.runner import RunOptions, run

    g = scripted(["all", "all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(2)]
    for level, name in ((4, "stats"), (1, "full")):
        run(progs, tmp_path / name, RunOptions(verifiers=["kernel-9.9"], guest_log_level=level, render=False))
        rows = [json.loads(line) for line in (tmp_path / name / "results.jsonl").read_text().splitlines()]
        assert [r["log_level"] for r in rows] == [level, level]
        meta = json.loads((tmp_path / name / "run.json").read_text())
        assert meta["options"]["guest_log_level"] == level and meta["kernel_matrix"]["kernel-9.9"]["log_level"] == level
    assert g.levels == [4, 5]


def test_run_fills_the_timing_statistics_of_a_matrix_kernel(scripted, tmp_path):
    import json

    from compare.runner import RunOptions, run

    scripted(["all"])
    progs = [prog([R0_0, EXIT], name=f"p{i}") for i in range(2)]
    run(progs, tmp_path / "run", RunOptions(verifiers=["kernel-9.9"], repeat=3, render=False))
    rows = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert [(r["program_id"], r["verifier_kind"]) for r in rows] == [(p.id, "kernel-9.9") for p in progs]
    first = rows[0]
    assert json.loads(first["verify_us"]) == [100.0, 101.0, 102.0]
    assert first["verify_us_mean"] == 101.0 and first["verify_us_p95"] == 102.0
    assert first["verify_us_std"] == pytest.approx((2 / 3) ** 0.5)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["repeat"] == 3


# ---------------------------------------------------------------- boot images

def _fake_bzimage(payload: bytes) -> bytes:
    setup = bytearray(2 * 512)  # setup_sects = 1
    setup[0x1F1] = 1
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x20F)
    struct.pack_into("<II", setup, 0x248, 16, len(payload))
    return bytes(setup) + b"\0" * 16 + payload + b"tail"


def _elf_with_note(ntype: int, btf: bytes | None = None) -> bytes:
    """A minimal ELF64: one PT_NOTE with a Xen note of ``ntype``; sections .shstrtab and, if given, .BTF."""
    note = struct.pack("<III", 4, 4, ntype) + b"Xen\0" + b"\0\0\0\0"
    shstr = b"\0.shstrtab\0.BTF\0"
    body_off = 64 + 56
    note_off, str_off = body_off, body_off + len(note)
    btf_off = str_off + len(shstr)
    sh_off = btf_off + len(btf or b"")
    sections = [bytes(64), struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, str_off, len(shstr), 0, 0, 1, 0)]
    if btf is not None:
        sections.append(struct.pack("<IIQQQQIIQQ", 11, 1, 0, 0, btf_off, len(btf), 0, 0, 4, 0))
    ph = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(note), len(note), 4)
    hdr = bytearray(64)
    hdr[:5] = b"\x7fELF\x02"
    struct.pack_into("<Q", hdr, 0x20, 64)
    struct.pack_into("<Q", hdr, 0x28, sh_off)
    struct.pack_into("<HH", hdr, 0x36, 56, 1)
    struct.pack_into("<HHH", hdr, 0x3A, 64, len(sections), 1)
    return bytes(hdr) + ph + note + shstr + (btf or b"") + b"".join(sections)


def test_bzimage_payload_and_pvh_detection(tmp_path):
    elf = _elf_with_note(18)
    size = struct.pack("<I", len(elf))
    zc = zlib.compressobj(wbits=31)
    gz = zc.compress(elf) + zc.flush() + size
    for packed in (lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32) + size, gz):
        assert bootimage.decompress(bootimage.bzimage_payload(_fake_bzimage(packed))) == elf
    (tmp_path / "vmlinuz").write_bytes(_fake_bzimage(gz))
    assert bootimage.unpack_image(tmp_path / "vmlinuz", tmp_path / "vmlinux", tmp_path / "btf") == (True, False)
    assert (tmp_path / "vmlinux").read_bytes() == elf and not (tmp_path / "btf").exists()
    assert not bootimage.has_pvh_entry(_elf_with_note(17))
    (tmp_path / "v2").write_bytes(_fake_bzimage(lzma.compress(_elf_with_note(17), format=lzma.FORMAT_XZ)))
    assert bootimage.unpack_image(tmp_path / "v2", tmp_path / "vmlinux2", tmp_path / "btf2") == (False, False)
    assert not (tmp_path / "vmlinux2").exists()
    with_btf = _elf_with_note(18, btf=b"\x9f\xebBTF-bytes")
    assert bootimage.elf_section(with_btf, ".BTF") == b"\x9f\xebBTF-bytes"
    assert bootimage.elf_section(with_btf, ".text") is None
    (tmp_path / "v3").write_bytes(_fake_bzimage(lzma.compress(with_btf, format=lzma.FORMAT_XZ)))
    assert bootimage.unpack_image(tmp_path / "v3", tmp_path / "vmlinux3", tmp_path / "btf3") == (True, True)
    assert (tmp_path / "btf3").read_bytes() == b"\x9f\xebBTF-bytes"


def test_loader_compiles_static(tmp_path, monkeypatch):
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    monkeypatch.setenv("VD_KERNEL_CACHE", str(tmp_path / "kernels"))
    from kernel_loader.matrix.loaderbin import LoaderUnavailable, ensure_loader
    try:
        path = ensure_loader()
    except LoaderUnavailable as e:
        pytest.skip(str(e))
    head = path.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and struct.unpack_from("<H", head, 16)[0] == 2  # ET_EXEC: static, no interpreter
    assert ensure_loader() == path  # cached


# ---------------------------------------------------------------- a real boot

def _kernel_61_or_skip():
    if not shutil.which(qemu.QEMU):
        pytest.skip(f"{qemu.QEMU} is not installed (apt-get install qemu-system-x86; scripts/setup.sh does)")
    if not cached("6.1") and "6.1" not in available_kernels():
        pytest.skip("Debian's 6.1 kernel is neither cached nor known to apt (python -m kernel_loader.matrix setup)")


@pytest.mark.bpf
def test_boot_61_verdicts():
    _kernel_61_or_skip()
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])
    spin_map = MapSpec("spin", uapi.MAP_TYPES["array"], 4, 8, 1, btf=b.encode(), btf_key_type_id=i32,
                       btf_value_type_id=val)
    lookup_spin = lookup_prog("lookup_spin")
    lookup_spin = Program(**{**lookup_spin.__dict__, "maps": (spin_map,), "prog_type": uapi.PROG_TYPES["sched_cls"]})
    fentry = prog([R0_0, EXIT], name="fentry", prog_type=uapi.PROG_TYPES["tracing"],
                  expected_attach_type=uapi.ATTACH_TYPES["trace_fentry"], attach_to="do_unlinkat")
    progs = [
        prog([R0_0, EXIT], name="ok"),
        prog([EXIT], name="no_r0"),
        prog([R0_0, Insn(0xD7, 0, 0, 0, 16), EXIT], name="bswap16"),  # cpuv4 bswap: 6.3+
        lookup_prog("lookup"),
        lookup_prog("arena", map_type=33),  # BPF_MAP_TYPE_ARENA: 6.9+
        lookup_spin,  # a map created with BTF (a bpf_spin_lock in its value)
        fentry,  # attach_btf_id resolved in 6.1's own BTF
        *_btf_programs(),
    ]
    st = batchrun.BatchStats()
    res = batchrun.verify_batch("6.1", progs, stats=st, log_level=2)
    assert st.boots == 1
    assert all(r.verifier.startswith("kernel-6.1.") for r in res), res[0].verifier
    assert {r.log_level for r in res} == {2}
    ok, no_r0, bswap, lookup, arena, spin, fe, loop_btf, loop_bare, bad_btf, no_r0_src = res
    assert ok.verdict == "accept" and ok.insns_processed == 2 and ok.stack_depth == [0] and "0: (b7) r0 = 0" in ok.log
    assert (no_r0.verdict, no_r0.errno, no_r0.message) == ("reject", E.EACCES, "R0 !read_ok")
    assert (bswap.verdict, bswap.errno, bswap.message) == ("reject", E.EINVAL, "unknown opcode d7")
    assert lookup.verdict == "accept" and "call bpf_map_lookup_elem#1" in lookup.log
    assert arena.verdict == "error" and arena.message.startswith("cannot create map #0 'm' (arena")
    assert arena.stage == "maps"
    assert spin.verdict == "accept", spin.message
    assert fe.verdict == "accept", fe.message
    assert fe.attach_btf_id and fe.verified_insns == 2 and fe.jited_prog_len
    _check_btf_programs(loop_btf, loop_bare, bad_btf, no_r0_src)
    assert "; return bpf_loop(3, cb, 0, 0);" in loop_btf.log  # line_info reached the kernel
    assert "; return r0;" in no_r0_src.log


# r1 = 3; r2 = &callback; r3 = 0; r4 = 0; call bpf_loop; r0 = 0; exit; callback: r0 = 0; exit
LOOP = [Insn(0xB7, 1, 0, 0, 3), Insn(0x18, 2, 4, 0, 6), Insn(0, 0, 0, 0, 0), Insn(0xB7, 3, 0, 0, 0),
        Insn(0xB7, 4, 0, 0, 0), Insn(0x85, 0, 0, 0, 181), R0_0, EXIT, R0_0, EXIT]


def _btf_programs():
    """Programs whose verdict depends on their own BTF reaching the kernel (func_info of a callback),
    one whose BTF the kernel refuses, and a rejected one with line_info."""
    blob, fi, li = _prog_btf()
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    main = b.func("main", b.func_proto(i, [("ctx", b.ptr(0))]), linkage=0)
    src = b._str("src.c"), b._str("return r0;")
    return [
        prog(LOOP, name="loop_btf", btf=blob, func_info=fi, line_info=li),
        prog(LOOP, name="loop_bare"),  # bpf_loop's callback needs func_info: refused without
        prog([R0_0, EXIT], name="bad_btf", btf=blob[:-2], func_info=fi[:1]),  # string section cut short
        prog([EXIT], name="no_r0_src", btf=b.encode(), func_info=((0, main),), line_info=((0, *src, 1 << 10),)),
    ]


def _check_btf_programs(loop_btf, loop_bare, bad_btf, no_r0_src):
    """The verdicts kernel_loader.load gives these programs on the host, by the same rules."""
    assert loop_btf.verdict == "accept", loop_btf.message
    assert (loop_bare.verdict, loop_bare.message) == ("reject", "missing btf func_info")
    assert (bad_btf.verdict, bad_btf.stage, bad_btf.errno) == ("error", "program", E.EINVAL), bad_btf.message
    assert bad_btf.message.startswith("program BTF refused by the kernel: BPF_BTF_LOAD failed: ")
    assert (no_r0_src.verdict, no_r0_src.message) == ("reject", "R0 !read_ok")


@pytest.mark.bpf
def test_btf_programs_on_the_host():
    """The host loader's verdicts for the programs the 6.1 guest test sends (what the guest must match)."""
    from kernel_loader import bpf_status, load

    ok, why = bpf_status()
    if not ok:
        pytest.skip(f"bpf() unavailable: {why}")
    _check_btf_programs(*(load(p, log_level=4) for p in _btf_programs()))


@pytest.mark.bpf
def test_boot_61_repeats_each_load():
    _kernel_61_or_skip()
    progs = [prog([R0_0, EXIT], name="ok"), prog([EXIT], name="no_r0"), lookup_prog("lookup"), *_btf_programs()]
    st = batchrun.BatchStats()
    res = batchrun.verify_batch("6.1", progs, stats=st, repeat=2)  # at the default log level: statistics only
    assert st.boots == 1
    ok, no_r0, lookup, *with_btf = res
    assert (ok.verdict, no_r0.verdict, lookup.verdict) == ("accept", "reject", "accept"), [r.message for r in res]
    assert no_r0.message == "R0 !read_ok" and ok.verified_insns == 2
    assert {r.log_level for r in res} == {4}
    _check_btf_programs(*with_btf)
    assert ok.insns_processed == 2 and lookup.insns_processed and ok.stack_depth == [0]
    assert "0: (b7) r0 = 0" not in ok.log and "call bpf_map_lookup_elem" not in lookup.log  # no trace
    res = res[:3]  # (the refused BTF never loaded: no times)
    for r in res:
        assert len(r.verify_us) == 2 and all(t >= 0 for t in r.verify_us), (r.program_id, r.verify_us)
        # the first load's time is the one its (kept) log states; the second load's log is not kept
        assert r.verify_us[0] == parse_log_stats(r.log)["verification_time_us"]
        assert r.log.count("verification time ") == 1


def test_kfunc_calls_get_the_guest_kernels_btf_ids(tmp_path):
    """A kfunc call carries the host kernel's BTF id; the guest gets its own kernel's id, by name."""
    from pathlib import Path as _P

    from kernel_loader.btf import BtfBuilder
    from kernel_loader.matrix.batchrun import guest_kfuncs
    from kernel_loader.vmlinux import func_id
    from pyverifier.insn import Insn, decode, encode
    from pyverifier.program import Program
    from pyverifier.result import Result

    if not _P("/sys/kernel/btf/vmlinux").exists():
        pytest.skip("no /sys/kernel/btf/vmlinux on this kernel")
    host_id = func_id("bpf_rcu_read_lock")
    if host_id is None:
        pytest.skip("this kernel has no bpf_rcu_read_lock kfunc")
    b = BtfBuilder()
    i = b.int("int", 4, signed=True)
    b.func("something_else", b.func_proto(i, []))
    guest_id = b.func("bpf_rcu_read_lock", b.func_proto(0, []))
    guest = tmp_path / "guest.btf"
    guest.write_bytes(b.encode())
    prog = Program(id="t/k", source="t", name="k", prog_type=1,
                   insns=encode([Insn(0x85, 0, 2, 0, host_id), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]))
    res = Result(program_id="t/k", verifier="kernel-x", verdict="error")
    out = guest_kfuncs(prog, str(guest), res)
    assert out is not None and decode(out.insns)[0].imm == guest_id != host_id
    b2 = BtfBuilder()
    b2.int("int", 4)
    older = tmp_path / "older.btf"
    older.write_bytes(b2.encode())
    assert guest_kfuncs(prog, str(older), res) is None
    assert res.message == "load not attempted: kfunc bpf_rcu_read_lock is not a function of this kernel's BTF"
    assert guest_kfuncs(prog.__class__(id="t/n", source="t", name="n", prog_type=1,
                                       insns=encode([Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)])),
                        str(older), res) is not None


def test_report_does_not_fault_a_statistics_only_log_for_missing_trace_text():
    """A guest at log level 4 has the messages but no state dumps: an expected text found only in a trace
    is not held against it; a wrong verdict still is, and a full log still must contain the text."""
    from pyverifier.program import Expect
    from reports.pages import LogView, _expect_checks

    p = Program(id="t/x", source="t", name="x", prog_type=1, insns=encode([EXIT]),
                expect=Expect(verdict="reject", message="R0=scalar()"))
    stats_log = "R0 !read_ok\nverification time 3 usec\nstack depth 0\n"
    results = [{"verifier": "kernel-6.1", "verdict": "reject", "message": "R0 !read_ok", "log_level": 4},
               {"verifier": "kernel-6.12", "verdict": "reject", "message": "R0 !read_ok", "log_level": 2},
               {"verifier": "kernel-6.1b", "verdict": "accept", "message": "", "log_level": 4}]
    logs = [LogView(r["verifier"], stats_log, "", "") for r in results]
    got = _expect_checks(p, {}, results, logs)
    assert [(c["ok"], c["unchecked"]) for c in got] == [(True, True), (False, False), (False, False)]
    assert "statistics-only" in got[0]["detail"] and "does not contain" in got[1]["detail"]
    found = _expect_checks(p, {}, results[:1], [LogView("kernel-6.1", "R0=scalar() R0 !read_ok\n", "", "")])
    assert [(c["ok"], c["unchecked"]) for c in found] == [(True, False)]  # found: checked, as in a full log
