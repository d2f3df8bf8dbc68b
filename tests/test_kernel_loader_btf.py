"""kernel_loader.btf: the BTF builder, BPF_BTF_LOAD, and BTF-backed maps (spin lock, timer, kptr, sk_storage)."""
from __future__ import annotations

import struct

import pytest

from kernel_loader import load
from kernel_loader.btf import (
    KIND_INT,
    KIND_PTR,
    KIND_STRUCT,
    KIND_TYPE_TAG,
    BtfBuilder,
    BtfBuildError,
    BtfLoadError,
    load_btf,
)
from kernel_loader.maps import MapCreateError, created_maps
from kernel_loader import syscall as sc
from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program, ProgramFormatError

ARRAY = uapi.map_type_num("array")
SK_STORAGE = uapi.map_type_num("sk_storage")
CGROUP_SKB = uapi.prog_type_num("cgroup_skb")


def spin_lock_value_btf() -> tuple[bytes, int, int]:
    """``int`` key, ``struct val { int cnt; struct bpf_spin_lock l; }`` value."""
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])
    return b.encode(), i32, val


def _types(blob: bytes) -> list[tuple[int, int, int, int]]:
    """(kind, vlen, name_off, size_type) of each type of a blob, by a reader independent of the builder."""
    _m, _v, _f, hdr, toff, tlen, _soff, _slen = struct.unpack_from("<HBBIIIII", blob)
    pos, end, out = hdr + toff, hdr + toff + tlen, []
    tails = {1: (4, 0), 2: (0, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 8: (0, 0), 18: (0, 0), 12: (0, 0), 13: (0, 8)}
    while pos < end:
        name_off, info, st = struct.unpack_from("<III", blob, pos)
        kind, vlen = info >> 24 & 0x1F, info & 0xFFFF
        fixed, per = tails[kind]
        out.append((kind, vlen, name_off, st))
        pos += 12 + fixed + per * vlen
    assert pos == end
    return out


# --- the builder (pure) -----------------------------------------------------------------------

def test_builder_lays_out_members_like_c():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    u8 = b.int("unsigned char", 1)
    u64 = b.int("long long unsigned int", 8)
    s = b.struct("s", [("a", u8), ("b", u64), ("c", i32)])
    assert b.size_of(s) == 24 and b.align_of(s) == 8
    arr = b.array(i32, 11)
    test_val = b.struct("test_val", [("index", b.int("unsigned int", 4)), ("foo", arr)])
    assert b.size_of(test_val) == 48
    blob = b.encode()
    members = struct.unpack_from("<9I", blob, 24 + 12 * 3 + 4 * 3 + 12)  # the three members of s
    assert [members[i] for i in (2, 5, 8)] == [0, 64, 128]  # bit offsets


def test_spin_lock_and_timer_have_the_kernels_sizes():
    b = BtfBuilder()
    lock = b.bpf_spin_lock()
    timer = b.bpf_timer()
    assert (b.size_of(lock), b.size_of(timer), b.align_of(timer)) == (4, 16, 8)
    assert b.bpf_spin_lock() == lock  # found again, not added twice
    val = b.struct("val", [("cnt", b.find("int", KIND_INT)), ("l", lock)])
    assert b.size_of(val) == 8


def test_encoding_header_and_types_read_back():
    blob, i32, val = spin_lock_value_btf()
    magic, version, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", blob)
    assert (magic, version, flags, hdr_len, type_off) == (0xEB9F, 1, 0, 24, 0)
    assert str_off == type_len and 24 + type_len + str_len == len(blob)
    kinds = [t[0] for t in _types(blob)]
    assert kinds == [KIND_INT, KIND_STRUCT, KIND_STRUCT]
    strings = blob[24 + str_off:]
    assert strings.startswith(b"\0") and b"\0bpf_spin_lock\0" in strings and b"\0val\0" in strings
    assert (i32, val) == (1, 3)


def test_kptr_is_a_pointer_to_a_tagged_struct():
    b = BtfBuilder()
    p = b.kptr("task_struct", "kptr")
    kinds = [t[0] for t in _types(b.encode())]
    assert kinds == [KIND_STRUCT, KIND_TYPE_TAG, KIND_PTR] and p == 3
    assert b.size_of(p) == 8


def test_builder_refuses_inconsistent_types():
    b = BtfBuilder()
    with pytest.raises(BtfBuildError, match="does not exist"):
        b.ptr(7)
    i32 = b.int("int", 4)
    with pytest.raises(BtfBuildError, match="smaller than its members"):
        b.struct("s", [("a", i32), ("b", i32)], size=4)
    with pytest.raises(BtfBuildError, match="size 3"):
        b.int("odd", 3)


def test_selftests_btf_reader_agrees_with_the_builder():
    btf_mod = pytest.importorskip("selftests.btf", reason="the ELF importer's BTF reader is not in this tree")
    blob, i32, val = spin_lock_value_btf()
    btf = btf_mod.Btf.parse(blob)
    assert btf.type(val).name == "val" and btf.resolve_size(val) == 8
    assert [m[0] for m in btf.type(val).members] == ["cnt", "l"]
    assert btf.type(val).member_bit_offset(1) == 32


def test_mapspec_btf_fields_round_trip_and_stay_optional():
    blob, i32, val = spin_lock_value_btf()
    m = MapSpec("lock", ARRAY, 4, 8, 1, btf=blob, btf_key_type_id=i32, btf_value_type_id=val)
    d = m.to_dict()
    assert d["btf"] == blob.hex() and (d["btf_key_type_id"], d["btf_value_type_id"]) == (1, 3)
    assert MapSpec.from_dict(d) == m
    plain = MapSpec("h", 1, 4, 8, 16)
    assert set(plain.to_dict()) == {"name", "type", "key_size", "value_size", "max_entries"}
    with pytest.raises(ProgramFormatError, match="without btf"):
        MapSpec.from_dict({"type": "array", "key_size": 4, "value_size": 8, "max_entries": 1, "btf_value_type_id": 3})
    with pytest.raises(ProgramFormatError, match="not hex"):
        MapSpec.from_dict({"type": "array", "key_size": 4, "value_size": 8, "max_entries": 1, "btf": "zz"})


# --- the kernel -------------------------------------------------------------------------------

@pytest.mark.bpf
def test_kernel_accepts_built_btf_and_explains_a_refusal():
    blob, _, _ = spin_lock_value_btf()
    fd = load_btf(blob)
    assert fd > 0
    sc.close(fd)
    with pytest.raises(BtfLoadError) as ei:
        load_btf(_dangling_member_btf())
    assert ei.value.errno == 22 and ei.value.log.startswith("magic: 0xeb9f")
    assert "Invalid member" in ei.value.log and "Invalid member" in str(ei.value)


def _dangling_member_btf() -> bytes:
    """``struct s { int a; }`` whose member points at type 99, which does not exist."""
    b = BtfBuilder()
    b.struct("s", [("a", b.int("int", 4))])
    bad = bytearray(b.encode())
    struct.pack_into("<I", bad, 24 + 16 + 12 + 4, 99)  # after the header, int [1] and struct s's header
    return bytes(bad)


def _lock_prog(unlock: bool) -> Program:
    text = """
        *(u32 *)(r10 -4) = 0
        r2 = r10
        r2 += -4
        r1 = map[lock]
        call bpf_map_lookup_elem#1
        if r0 != 0x0 goto pc+1
        exit
        r6 = r0
        r1 = r0
        r1 += 4
        call bpf_spin_lock#93
    """ + ("""
        r1 = r6
        r1 += 4
        call bpf_spin_unlock#94
    """ if unlock else "") + """
        r0 = 1
        exit
    """
    blob, i32, val = spin_lock_value_btf()
    m = MapSpec("lock", ARRAY, 4, 8, 1, btf=blob, btf_key_type_id=i32, btf_value_type_id=val)
    return Program(id=f"t/lock{unlock}", source="t", name=f"lock{unlock}", prog_type=CGROUP_SKB,
                   insns=encode(assemble(text, maps=["lock"])), maps=(m,))


@pytest.mark.bpf
def test_spin_lock_map_lets_the_verifier_check_locking():
    ok = load(_lock_prog(unlock=True))
    assert ok.verdict == "accept", ok.log
    bad = load(_lock_prog(unlock=False))
    assert bad.verdict == "reject" and bad.stage == "verifier"
    assert "inside bpf_spin_lock-ed region" in bad.message  # exit while holding the lock


@pytest.mark.bpf
def test_lock_without_btf_is_rejected_by_the_verifier():
    p = _lock_prog(unlock=True)
    plain = Program(id="t/nobtf", source="t", name="nobtf", prog_type=p.prog_type, insns=p.insns,
                    maps=(MapSpec("lock", ARRAY, 4, 8, 1),))
    r = load(plain)
    assert r.verdict == "reject"
    assert "has to have BTF in order to use bpf_spin_lock" in r.message


@pytest.mark.bpf
def test_timer_kptr_and_sk_storage_maps_can_be_created():
    b = BtfBuilder()
    i32 = b.int("int", 4, signed=True)
    timer_val = b.struct("timer", [("t", b.bpf_timer())])
    lock_val = b.struct("val", [("cnt", i32), ("l", b.bpf_spin_lock())])
    kptr_val = b.struct("kp", [("p", b.kptr("task_struct", "kptr"))])
    blob = b.encode()
    specs = [
        MapSpec("tm", ARRAY, 4, 16, 1, btf=blob, btf_key_type_id=i32, btf_value_type_id=timer_val),
        MapSpec("sk", SK_STORAGE, 4, 8, 0, flags=1, btf=blob, btf_key_type_id=i32, btf_value_type_id=lock_val),
        MapSpec("kp", ARRAY, 4, 8, 1, btf=blob, btf_key_type_id=i32, btf_value_type_id=kptr_val),
    ]
    with created_maps(specs) as fds:
        assert len(fds) == 3 and all(fd > 0 for fd in fds)


@pytest.mark.bpf
def test_sk_storage_without_btf_cannot_be_created():
    with pytest.raises(MapCreateError, match="sk_storage"):
        with created_maps([MapSpec("sk", SK_STORAGE, 4, 8, 0, flags=1)]):
            pass


@pytest.mark.bpf
def test_refused_map_btf_is_a_map_error_with_the_kernels_reason():
    p = Program(id="t/badbtf", source="t", name="badbtf", prog_type=1, insns=encode(assemble("r0 = 0\nexit")),
                maps=(MapSpec("m", ARRAY, 4, 4, 1, btf=_dangling_member_btf(), btf_key_type_id=1,
                              btf_value_type_id=2),))
    r = load(p)
    assert r.verdict == "error" and r.stage == "maps"
    assert "its BTF was refused" in r.message
