"""Helpers, references, bpf-to-bpf calls, program types and return values: pyverifier against
known verdicts and messages, and (bpf-marked) against the live kernel's full level-2 log."""
from __future__ import annotations

import difflib
import re

import pytest

from pyverifier import helpers as H
from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import Insn, decode, encode
from pyverifier.program import MapSpec, Program
from pyverifier.verifier import verify

T = uapi.PROG_TYPES
A = uapi.ATTACH_TYPES
MT = uapi.MAP_TYPES

HASH = MapSpec("h", MT["hash"], 4, 8, 4)
ARRAY = MapSpec("arr", MT["array"], 4, 8, 4)
RINGBUF = MapSpec("rb", MT["ringbuf"], 0, 0, 4096)
PROG_ARRAY = MapSpec("jt", MT["prog_array"], 4, 4, 4)
QUEUE = MapSpec("q", MT["queue"], 0, 8, 4)


def prog(name: str, text: str, ptype: str = "socket_filter", maps=(), eat: str | int = 0,
         license: str = "GPL") -> Program:
    maps = tuple(maps)
    insns = assemble(text, [m.name for m in maps])
    eat_n = A[eat] if isinstance(eat, str) else eat
    return Program(id=f"calls/{name}", source="calls", name=name, prog_type=T[ptype], insns=encode(insns),
                   maps=maps, expected_attach_type=eat_n, license=license)


STACK_KEY = """
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
"""

RB_OK = """
r1 = map[rb]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0x0 goto out
r6 = r0
*(u64 *)(r6 +8) = 0
r1 = r6
r2 = 0
call bpf_ringbuf_submit#132
out:
r0 = 0
exit
"""

RB_LEAK = """
r1 = map[rb]
r2 = 16
r3 = 0
call bpf_ringbuf_reserve#131
r0 = 0
exit
"""

SK_LOOKUP = """
r6 = r1
*(u64 *)(r10 -8) = 0
*(u64 *)(r10 -16) = 0
*(u64 *)(r10 -24) = 0
*(u64 *)(r10 -32) = 0
*(u64 *)(r10 -40) = 0
r2 = r10
r2 += -40
r1 = r6
r3 = 36
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0x0 goto out
r7 = r0
r1 = *(u32 *)(r7 +4)
r1 = r7
call bpf_sk_release#86
out:
r0 = 0
exit
"""

SUBPROG = """
r6 = r1
r1 = 7
r2 = 3
call add
r7 = r0
*(u64 *)(r10 -8) = 0
r0 = r7
exit
add:
*(u64 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
r0 += r2
exit
"""

DEEP = "\n".join(["r0 = 0", "call f1", "exit"] + [f"f{i}:\ncall f{i + 1}\nexit" for i in range(1, 8)] +
                 ["f8:", "r0 = 0", "exit"])

COMBINED = """
*(u64 *)(r10 -320) = 0
call f
r0 = 0
exit
f:
*(u64 *)(r10 -320) = 0
r0 = 0
exit
"""

STACK_RET = """
call f
r0 = 0
exit
f:
r0 = r10
exit
"""

CALLBACK = """
r1 = 4
r2 = func[cb]
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
cb:
r0 = 0
exit
"""

# (program, verdict, errno, message)
CASES = [
    (prog("lookup_hash", STACK_KEY + "r1 = map[h]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", maps=[HASH]),
     "accept", None, ""),
    (prog("lookup_array_const_key", STACK_KEY + "r1 = map[arr]\ncall bpf_map_lookup_elem#1\n"
          "r0 = *(u64 *)(r0 +0)\nexit", maps=[ARRAY]), "accept", None, ""),
    (prog("lookup_scalar_key", "r1 = map[h]\nr2 = 0\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", maps=[HASH]),
     "reject", 13, "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, "
                   "trusted_ptr_"),
    (prog("key_past_fp", "r1 = map[h]\nr2 = r10\nr2 += -2\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", maps=[HASH]),
     "reject", 22, "invalid read from stack R2 off=-2 size=4"),
    (prog("map_not_map", "r1 = 0\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit"),
     "reject", 13, "R1 type=scalar expected=map_ptr"),
    (prog("wrong_map_type", STACK_KEY + "r1 = map[q]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", maps=[QUEUE]),
     "reject", 13, "invalid zero-sized read"),
    (prog("ringbuf_lookup", "r1 = map[rb]\nr2 = 0\nr3 = 0\ncall bpf_map_update_elem#2\nr0 = 0\nexit",
          maps=[RINGBUF]), "reject", 13, "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, "
                                         "ringbuf_mem, buf, trusted_ptr_"),
    (prog("queue_pop_hash", "r1 = map[h]\nr2 = r10\nr2 += -8\ncall bpf_map_pop_elem#88\nr0 = 0\nexit", maps=[HASH]),
     "reject", 22, "cannot pass map_type 1 into func bpf_map_pop_elem#88"),
    (prog("size_negative", "r1 = r10\nr1 += -16\nr2 = -1\ncall bpf_get_current_comm#16\nr0 = 0\nexit",
          ptype="kprobe"), "reject", 13, "R2 min value is negative, either use unsigned or 'var &= const'"),
    (prog("size_zero", "r1 = r10\nr1 += -16\nr2 = 0\ncall bpf_get_current_comm#16\nr0 = 0\nexit",
          ptype="kprobe"), "reject", 13, "R2 invalid zero-sized read: u64=[0,0]"),
    (prog("size_unbounded", "call bpf_get_prandom_u32#7\nr2 = r0\nr2 &= 0xffff\nr2 += 1\nr2 <<= 30\nr1 = r10\nr1 += -16\n"
          "call bpf_get_current_comm#16\nr0 = 0\nexit", ptype="kprobe"), "reject", 13,
     "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'"),
    (prog("buffer_too_small", "r1 = r10\nr1 += -16\nr2 = 32\ncall bpf_get_current_comm#16\nr0 = 0\nexit",
          ptype="kprobe"), "reject", 22, "invalid write to stack R1 off=-16 size=32"),
    (prog("unavailable", "r1 = r1\nr2 = 0\ncall bpf_xdp_adjust_head#44\nr0 = 0\nexit"), "reject", 22,
     "program of this type cannot use helper bpf_xdp_adjust_head#44"),
    (prog("invalid_func", "call unknown#999\nr0 = 0\nexit"), "reject", 22, "invalid func unknown#999"),
    (prog("gpl_only", "r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel#113\nr0 = 0\nexit",
          ptype="kprobe", license="Proprietary"), "reject", 22,
     "cannot call GPL-restricted function from non-GPL compatible program"),
    (prog("ctx_modified", "r1 += 4\ncall bpf_get_hash_recalc#34\nr0 = 0\nexit", ptype="sched_cls"), "reject", 13,
     "dereference of modified ctx ptr R1 off=4 disallowed"),
    (prog("ringbuf_ok", RB_OK, maps=[RINGBUF]), "accept", None, ""),
    (prog("ringbuf_leak", RB_LEAK, maps=[RINGBUF]), "reject", 22,
     "BPF_EXIT instruction in main prog would lead to reference leak"),
    (prog("release_unreferenced", "r1 = r10\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit"), "reject", 13,
     "R1 type=fp expected=ringbuf_mem"),
    (prog("tail_call_wrong_map", "r2 = map[h]\nr3 = 0\ncall bpf_tail_call#12\nr0 = 0\nexit", maps=[HASH]),
     "reject", 22, "expected prog array map for tail call"),
    (prog("tail_call", "r2 = map[jt]\nr3 = 1\ncall bpf_tail_call#12\nr0 = 0\nexit", maps=[PROG_ARRAY]),
     "accept", None, ""),
    (prog("sk_lookup_release", SK_LOOKUP, ptype="sched_cls"), "accept", None, ""),
    (prog("sk_release_scalar", "r1 = 0\ncall bpf_sk_release#86\nr0 = 0\nexit", ptype="sched_cls"), "reject", 13,
     "R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_"),
    (prog("func_ip_tracepoint", "call bpf_get_func_ip#173\nr0 = 0\nexit", ptype="tracepoint"), "reject", 524,
     "func bpf_get_func_ip#173 not supported for program type 5"),
    # subprograms
    (prog("subprog", SUBPROG), "accept", None, ""),
    (prog("subprog_deep", DEEP), "reject", 7, "the call stack of 9 frames is too deep"),
    (prog("subprog_combined_stack", COMBINED), "reject", 13, "combined stack size of 2 calls is 640. Too large"),
    (prog("subprog_stack_ptr", STACK_RET), "reject", 22, "cannot return stack pointer to the caller"),
    (prog("subprog_r0_uninit", "call f\nexit\nf:\nexit"), "reject", 13, "R0 !read_ok"),
    (prog("callback_without_btf", CALLBACK), "reject", 22, "missing btf func_info"),
    (prog("loop_scalar_callback", "r1 = 4\nr2 = 0\nr3 = 0\nr4 = 0\ncall bpf_loop#181\nr0 = 0\nexit"), "reject", 13,
     "R2 type=scalar expected=func"),
    # return values
    (prog("cgroup_skb_ret", "r0 = 5\nexit", ptype="cgroup_skb"), "reject", 22,
     "At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]"),
    (prog("cgroup_skb_egress_ret", "r0 = 3\nexit", ptype="cgroup_skb", eat="cgroup_inet_egress"), "accept", None,
     ""),
    (prog("cgroup_skb_unknown_ret", "call bpf_get_prandom_u32#7\nexit", ptype="cgroup_skb"), "reject", 22,
     "At program exit the register R0 has unknown scalar value should have been in [0, 1]"),
    (prog("recvmsg_ret", "r0 = 0\nexit", ptype="cgroup_sock_addr", eat="cgroup_udp4_recvmsg"), "reject", 22,
     "At program exit the register R0 has smin=0 smax=0 should have been in [1, 1]"),
    (prog("ret_pointer", "r0 = r10\nexit", ptype="cgroup_sock"), "reject", 22,
     "At program exit the register R0 is not a known value (fp)"),
    (prog("sock_addr_no_attach", "r0 = 1\nexit", ptype="cgroup_sock_addr"), "reject", 22,
     "rejected with EINVAL before the verifier ran (no log)"),
    # context of more program types
    (prog("raw_tp_oob", "r0 = *(u64 *)(r1 +96)\nr0 = 0\nexit", ptype="raw_tracepoint"), "reject", 13,
     "invalid bpf_context access off=96 size=8"),
    (prog("raw_tp_arg", "r0 = *(u64 *)(r1 +88)\nr0 = 0\nexit", ptype="raw_tracepoint"), "accept", None, ""),
    (prog("perf_event_sample_period", "r0 = *(u32 *)(r1 +168)\nr0 = 0\nexit", ptype="perf_event"), "accept", None,
     ""),
    (prog("sock_ops_reply_write", "r2 = 1\n*(u32 *)(r1 +4) = r2\nr0 = 1\nexit", ptype="sock_ops"), "accept",
     None, ""),
    (prog("sock_ops_op_write", "r2 = 1\n*(u32 *)(r1 +0) = r2\nr0 = 1\nexit", ptype="sock_ops"), "reject", 13,
     "invalid bpf_context access off=0 size=4"),
    (prog("cgroup_sock_mark_post_bind", "r2 = *(u32 *)(r1 +16)\nr0 = 1\nexit", ptype="cgroup_sock",
          eat="cgroup_inet4_post_bind"), "reject", 13, "invalid bpf_context access off=16 size=4"),
    (prog("sock_addr_ip6_in_v4", "r2 = *(u32 *)(r1 +8)\nr0 = 1\nexit", ptype="cgroup_sock_addr",
          eat="cgroup_inet4_connect"), "reject", 13, "invalid bpf_context access off=8 size=4"),
    (prog("sk_msg_data", "r2 = *(u64 *)(r1 +0)\nr0 = 1\nexit", ptype="sk_msg"), "accept", None, ""),
    (prog("tracepoint_negative_ctx", "r2 = *(u32 *)(r1 -4)\nr0 = 0\nexit", ptype="tracepoint"), "accept", None,
     ""),
    # fib_lookup writes its results into the params buffer; getsockopt fills an uninitialized buffer
    (prog("fib_lookup_stack_params", "r6 = r1\n*(u64 *)(r10 -8) = r6\nr2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\n"
          "call bpf_fib_lookup#69\nr0 = *(u64 *)(r10 -64)\nr0 = 0\nexit", ptype="sched_cls"), "accept", None, ""),
    (prog("fib_lookup_size_past_stack", "r2 = r10\nr2 += -64\nr3 = 72\nr4 = 0\ncall bpf_fib_lookup#69\nr0 = 0\nexit",
          ptype="xdp"), "reject", 22, "invalid write to stack R2 off=-64 size=72"),
    # deleting from a sockmap: only where no locked socket is reachable
    (prog("sockmap_delete_socket_filter", STACK_KEY + "r1 = map[sm]\ncall bpf_map_delete_elem#3\nr0 = 0\nexit",
          maps=[MapSpec(name="sm", type=15, key_size=4, value_size=4, max_entries=4)]), "accept", None, ""),
    (prog("sockmap_delete_raw_tp", STACK_KEY + "r1 = map[sm]\ncall bpf_map_delete_elem#3\nr0 = 0\nexit",
          ptype="raw_tracepoint", maps=[MapSpec(name="sm", type=15, key_size=4, value_size=4, max_entries=4)]),
     "reject", 22, "cannot pass map_type 15 into func bpf_map_delete_elem#3"),
    (prog("getsockopt_uninit_buf", "r4 = r10\nr4 += -16\nr5 = 8\nr2 = 1\nr3 = 2\ncall bpf_getsockopt#57\n"
          "r0 = 1\nexit", ptype="sock_ops"), "accept", None, ""),
]


@pytest.mark.parametrize("p,verdict,errno,message", CASES, ids=[c[0].name for c in CASES])
def test_verdict_and_message(p, verdict, errno, message):
    r = verify(p, 2)
    assert (r.verdict, r.errno, r.message) == (verdict, errno, message), r.log


def test_helper_outside_the_table_is_not_modelled():
    p = prog("no_proto", "r1 = 0\ncall bpf_snprintf#165\nr0 = 0\nexit")
    r = verify(p, 2)
    assert r.verdict == "error" and r.message == "not modelled: helper bpf_snprintf"


def test_prototype_table_size():
    assert len(H.PROTOS) >= 80
    for fid, p in H.PROTOS.items():
        assert len(p.args) <= 5, fid


def test_cpu_id_range_needs_host_value(monkeypatch):
    p = prog("cpu", "call bpf_get_smp_processor_id#8\nexit")
    monkeypatch.setattr(H, "NR_CPU_IDS", None)
    assert verify(p).message.startswith("not modelled: ")
    monkeypatch.setattr(H, "NR_CPU_IDS", 4)
    r = verify(p)
    assert r.verdict == "accept"
    assert "R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=3,var_off=(0x0; 0x3))" in r.log


def test_refs_printed_and_released():
    r = verify(prog("rb", RB_OK, maps=[RINGBUF]), 2)
    assert " refs=2" in r.log
    assert "R0=ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=16) refs=2" in r.log


def test_leak_lists_every_reference():
    text = RB_LEAK.replace("r0 = 0\nexit", "r6 = r0\nr1 = map[rb]\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve#131\n"
                                           "r0 = 0\nexit")
    r = verify(prog("rb2", text, maps=[RINGBUF]), 2)
    assert "Unreleased reference id=2 alloc_insn=4\nUnreleased reference id=4 alloc_insn=10\n" in r.log


def test_subprog_frames_in_log():
    r = verify(prog("sp", SUBPROG), 6)
    assert "caller:\n R6=ctx() R10=fp0\ncallee:\n frame1: R1=7 R2=3 R10=fp0\n" in r.log
    assert "returning from callee:\n frame1: " in r.log
    assert "to caller at 4:\n" in r.log
    assert "stack depth 8+8\n" in r.log
    assert r.stack_depth == [8, 8]


# ---- against the live kernel ---------------------------------------------------
def _norm(log: str, insns) -> str:
    from pyverifier.disasm import normalize_log

    log = normalize_log(log, insns)
    log = re.sub(r"verification time \d+ usec", "verification time X usec", log)
    log = re.sub(r"\(18\) (r\d+) = (?:map\[\d+\]|0x[0-9a-f]+)", r"(18) \1 = MAP", log)
    return re.sub(r"(\(18\) r\d+ = MAP) +;", r"\1 ;", log)


def _compare(p: Program, level: int = 2) -> None:
    from kernel_loader import load

    k = load(p, log_level=level)
    assert k.verdict in ("accept", "reject"), k.message
    r = verify(p, level | 4)
    assert (r.verdict, r.errno, r.message) == (k.verdict, k.errno, k.message), r.log
    ins = decode(p.insns)
    kl, pl = _norm(k.log, ins), _norm(r.log, ins)
    assert kl == pl, "".join(difflib.unified_diff(kl.splitlines(1), pl.splitlines(1), "kernel", "pyverifier"))


@pytest.fixture
def host_cpus(monkeypatch):
    from pathlib import Path

    text = Path("/sys/devices/system/cpu/possible").read_text().strip()
    n = max(int(part.split("-")[-1]) for part in text.split(",")) + 1
    monkeypatch.setattr(H, "NR_CPU_IDS", n)


@pytest.mark.bpf
@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("p", [c[0] for c in CASES], ids=[c[0].name for c in CASES])
def test_against_kernel(p, level, host_cpus):
    _compare(p, level)


# a sweep of context accesses: every program type pyverifier models, loads and stores of each size
_CTX_TYPES = [("raw_tracepoint", 0), ("perf_event", 0), ("cgroup_skb", 0), ("sk_skb", 0), ("lwt_xmit", 0),
              ("flow_dissector", 0), ("sock_ops", 0), ("cgroup_device", 0), ("sk_msg", 0), ("cgroup_sysctl", 0),
              ("socket_filter", 0), ("sched_cls", 0), ("xdp", 0), ("kprobe", 0), ("tracepoint", 0),
              ("cgroup_sock", A["cgroup_inet4_post_bind"]), ("cgroup_sock_addr", A["cgroup_udp6_sendmsg"]),
              ("sk_lookup", A["sk_lookup"]), ("sk_reuseport", 0), ("cgroup_sockopt", A["cgroup_getsockopt"]),
              ("cgroup_sockopt", A["cgroup_setsockopt"])]
_SZ = {1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18}


@pytest.mark.bpf
@pytest.mark.parametrize("ptype,eat", _CTX_TYPES, ids=[f"{t}-{e}" for t, e in _CTX_TYPES])
def test_ctx_sweep_against_kernel(ptype, eat):
    from kernel_loader import load

    bad = []
    for off in range(-4, 232, 3):
        for size in (1, 2, 4, 8):
            for write in (False, True):
                head = [Insn(0xB7, 2, 0, 0, 0), Insn(0x63 | _SZ[size], 1, 2, off, 0)] if write else \
                    [Insn(0x61 | _SZ[size], 2, 1, off, 0)]
                ins = head + [Insn(0xB7, 0, 0, 0, 1), Insn(0x95, 0, 0, 0, 0)]
                p = Program(id="ctx", source="t", name="ctx", prog_type=T[ptype], insns=encode(ins),
                            expected_attach_type=eat)
                k, r = load(p, 1), verify(p, 5)
                if r.verdict != "error" and (k.verdict, k.message) != (r.verdict, r.message):
                    bad.append((off, size, write, k.message, r.message))
    assert not bad, bad[:10]


@pytest.mark.bpf
@pytest.mark.parametrize("ptype", ["socket_filter", "kprobe", "sched_cls", "xdp", "cgroup_skb", "sk_lookup"])
def test_availability_table_against_kernel(ptype):
    from kernel_loader import load

    eat = A["sk_lookup"] if ptype == "sk_lookup" else 0
    for fid in range(1, 212, 5):
        ins = [Insn(0x85, 0, 0, 0, fid), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
        p = Program(id="av", source="t", name="av", prog_type=T[ptype], insns=encode(ins), expected_attach_type=eat)
        k = load(p, 1)
        refused = "cannot use helper" in k.log or "invalid func" in k.log
        assert H.available(fid, T[ptype], eat) is (not refused), fid


# helpers taking packet pointers: allowed only where the prototype says pkt_access
_PKT_HEAD = """
r6 = r1
r7 = *(u32 *)(r6 +76)
r8 = *(u32 *)(r6 +80)
r9 = r7
r9 += 16
if r9 > r8 goto out
"""
_PKT_CALLS = {
    "lookup": "r1 = map[h]\nr2 = r7\ncall bpf_map_lookup_elem#1\n",
    "update": "r1 = map[h]\nr2 = r7\nr3 = r7\nr4 = 0\ncall bpf_map_update_elem#2\n",
    "rb_output": "r1 = map[rb]\nr2 = r7\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output#130\n",
    "csum_diff": "r1 = r7\nr2 = 8\nr3 = 0\nr4 = 0\nr5 = 0\ncall bpf_csum_diff#28\n",
    "load_bytes": "r1 = r6\nr2 = 0\nr3 = r7\nr4 = 8\ncall bpf_skb_load_bytes#26\n",
    "sk_lookup": "r1 = r6\nr2 = r7\nr3 = 12\nr4 = -1\nr5 = 0\ncall bpf_sk_lookup_tcp#84\n"
                 "if r0 == 0 goto out\nr1 = r0\ncall bpf_sk_release#86\n",
    "push": "r1 = map[h]\nr2 = r7\nr3 = 0\ncall bpf_map_push_elem#87\n",
    "pop": "r1 = map[h]\nr2 = r7\ncall bpf_map_pop_elem#88\n",
}


@pytest.mark.bpf
@pytest.mark.parametrize("ptype", ["sched_cls", "cgroup_skb"])
@pytest.mark.parametrize("call", sorted(_PKT_CALLS))
def test_packet_helper_args_against_kernel(ptype, call):
    text = _PKT_HEAD + _PKT_CALLS[call] + "out:\nr0 = 0\nexit\n"
    _compare(prog(f"pkt_{call}", text, ptype=ptype, maps=[HASH, RINGBUF]), 2)


# every modelled helper with valid arguments, then each argument replaced by a wrong one
_SWEEP_MAPS = {"hash": MapSpec("hash", MT["hash"], 4, 8, 4), "prog_array": MapSpec("pa", MT["prog_array"], 4, 4, 2),
               "perf_event_array": MapSpec("pe", MT["perf_event_array"], 4, 4, 2),
               "ringbuf": MapSpec("rb", MT["ringbuf"], 0, 0, 4096),
               "stack_trace": MapSpec("st", MT["stack_trace"], 4, 64, 2),
               "cgroup_array": MapSpec("cg", MT["cgroup_array"], 4, 4, 1),
               "devmap": MapSpec("dm", MT["devmap"], 4, 4, 2), "queue": MapSpec("q", MT["queue"], 0, 8, 4),
               "percpu_array": MapSpec("pca", MT["percpu_array"], 4, 8, 4),
               "array": MapSpec("arr", MT["array"], 4, 8, 4)}
_SWEEP_MAP_FOR = {12: "prog_array", 22: "perf_event_array", 25: "perf_event_array", 55: "perf_event_array",
                  130: "ringbuf", 131: "ringbuf", 134: "ringbuf", 27: "stack_trace", 33: "cgroup_array",
                  37: "cgroup_array", 51: "devmap", 87: "queue", 88: "queue", 89: "queue", 195: "percpu_array",
                  164: "array"}
_GOOD = {H.ARG_CONST_MAP_PTR: "map", H.ARG_PTR_TO_MAP_KEY: "fp-8", H.ARG_PTR_TO_MAP_VALUE: "fp-16",
         H.ARG_PTR_TO_MEM: "fp-64", H.ARG_CONST_SIZE: 8, H.ARG_CONST_SIZE_OR_ZERO: 8, H.ARG_PTR_TO_CTX: "ctx",
         H.ARG_ANYTHING: 0, H.ARG_CONST_ALLOC_SIZE_OR_ZERO: 8}
_BAD = ["scalar0", "ctx", "fp-200", "fp-8", "map", -1, 0, 600, 1 << 30, "unknown", "fp+8", "fp-508", "ctx+4",
        "fp-66"]


def _arg_setup(reg: int, val) -> list[Insn]:
    if val == "map":
        return [Insn(0x18, reg, 1, 0, 0), Insn(0, 0, 0, 0, 0)]
    if val in ("ctx", "ctx+4"):
        return [Insn(0xBF, reg, 6, 0, 0)] + ([Insn(0x07, reg, 0, 0, 4)] if val == "ctx+4" else [])
    if val == "scalar0":
        return [Insn(0xB7, reg, 0, 0, 0)]
    if val == "unknown":
        return [Insn(0xBF, reg, 7, 0, 0)]
    if isinstance(val, str):
        return [Insn(0xBF, reg, 10, 0, 0), Insn(0x07, reg, 0, 0, int(val[2:]))]
    return [Insn(0xB7, reg, 0, 0, val)]


@pytest.mark.bpf
@pytest.mark.parametrize("ptype", ["socket_filter", "kprobe", "sched_cls", "xdp", "cgroup_sock"])
def test_helper_argument_sweep_against_kernel(ptype, host_cpus):
    import pyverifier.kbtf as kbtf
    from kernel_loader import load
    from selftests.btf import kernel_btf

    kbtf.set_provider(kernel_btf)  # helpers returning pointers to kernel objects need the kernel's BTF
    try:
        _sweep(ptype, load)
    finally:
        kbtf.set_provider(None)


def _sweep(ptype, load):
    pt = T[ptype]
    eat = A["cgroup_inet_sock_create"] if ptype == "cgroup_sock" else 0
    bad = []
    for fid, proto in sorted(H.PROTOS.items()):
        if not H.available(fid, pt, eat) or H.proto(fid, pt) is None:
            continue
        if any((a & H.BASE) not in _GOOD for a in proto.args):
            continue
        good = [_GOOD[a & H.BASE] for a in proto.args]
        variants = [good] + [good[:i] + [b] + good[i + 1:] for i in range(len(good)) for b in _BAD[::2]
                             if b != good[i]]
        for args in variants:
            ins = [Insn(0xBF, 6, 1, 0, 0), Insn(0x85, 0, 0, 0, 7), Insn(0xBF, 7, 0, 0, 0)]
            ins += [Insn(0x7A, 10, 0, -8 * i, 0) for i in range(1, 9)]
            for i, a in enumerate(args):
                ins += _arg_setup(i + 1, a)
            ins += [Insn(0x85, 0, 0, 0, fid), Insn(0xB7, 0, 0, 0, 1), Insn(0x95, 0, 0, 0, 0)]
            p = Program(id="hs", source="t", name="hs", prog_type=pt, insns=encode(ins), expected_attach_type=eat,
                        maps=(_SWEEP_MAPS[_SWEEP_MAP_FOR.get(fid, "hash")],))
            k, r = load(p, 1), verify(p, 5)
            if k.verdict != "error" and (k.verdict, k.message) != (r.verdict, r.message):
                bad.append((fid, args, k.message, r.message))
    assert not bad, bad[:10]
