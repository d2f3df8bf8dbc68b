"""Built-in corpus: programs shaped like real BPF programs, most of them medium-sized (100-999 insns).

Parsers, counters, event emitters and dispatchers of the size a compiler
makes from a page of C, each exercising one area of the verifier at scale.
"""
from __future__ import annotations

from typing import Callable

from .gen_header import program

GENERATORS: dict[str, Callable[[], str]] = {}


def _gen(fn: Callable[[], str]) -> Callable[[], str]:
    GENERATORS[fn.__name__] = fn
    return fn


def _xdp_bounds(n: int, fail: str = "drop") -> list[str]:
    """r2 = data, r3 = data_end, and n bytes proven readable (else goto fail)."""
    return ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = r2", f"r4 += {n}", f"if r4 > r3 goto {fail}"]


@_gen
def branch_ladder_wide() -> str:
    body = ["r1 = *(u32 *)(r1 +0)", "r1 &= 65535", "r0 = 0"]
    for i in range(400):
        body += [f"if r1 < 0x{(i + 1) * 150:x} goto skip{i}", "r0 += 1", f"skip{i}:"]
    body += ["r0 &= 1", "exit"]
    return program(
        "branch_ladder_wide", "socket_filter", "branch, prune",
        "a ladder of 400 rising thresholds on one 16-bit unknown, each guarding an increment: every rung is "
        "a new path whose later comparisons are all decided, about 80000 processed instructions and many "
        "states kept for pruning (pyverifier: about 3.5 s)",
        body,
    )


@_gen
def xdp_eth_ipv4_tcp_parser() -> str:
    body = ["r6 = r1"] + _xdp_bounds(14, "pass") + [
        "r5 = *(u16 *)(r2 +12)", "if r5 != 0x8 goto pass",  # ETH_P_IP, network order on a little-endian host
        "r4 = r2", "r4 += 34", "if r4 > r3 goto pass",
        "r5 = *(u8 *)(r2 +14)", "r5 &= 15", "if r5 < 5 goto drop",
        "r5 <<= 2",  # IHL in bytes: [20, 60]
        "r7 = *(u8 *)(r2 +23)", "if r7 != 6 goto pass",  # TCP
        "r2 += 14", "r2 += r5",  # TCP header at a variable offset
        "r4 = r2", "r4 += 20", "if r4 > r3 goto pass",
        "r8 = *(u8 *)(r2 +12)", "r8 >>= 4", "r8 <<= 2",  # data offset in bytes
        "r9 = *(u8 *)(r2 +13)",  # flags
        "r0 = 0",
    ]
    # walk up to 10 option bytes after the fixed TCP header
    for i in range(10):
        body += [f"if r8 < {21 + i} goto done", "r4 = r2", f"r4 += {21 + i}", "if r4 > r3 goto done",
                 f"r5 = *(u8 *)(r2 +{20 + i})", "if r5 == 0x0 goto done", "r0 += r5"]
    body += ["done:", "r9 &= 2", "if r9 == 0x0 goto pass", "r0 &= 1", "if r0 == 0x1 goto drop",
             "pass:", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"]
    return program(
        "xdp_eth_ipv4_tcp_parser", "xdp", "packet, branch, alu",
        "an XDP parser for Ethernet, IPv4 and TCP: the TCP header sits at a variable offset computed from the "
        "IHL field, re-proven against data_end, then up to ten option bytes are read one by one",
        body,
    )


@_gen
def xdp_ipv6_ext_headers() -> str:
    body = _xdp_bounds(54, "pass") + [
        "r5 = *(u16 *)(r2 +12)", "if r5 != 0xdd86 goto pass",
        "r6 = *(u8 *)(r2 +20)",  # next header
        "r2 += 54",  # first extension header (after a 40-byte IPv6 header)
    ]
    for i in range(6):
        body += [
            "if r6 == 0x6 goto l4", "if r6 == 0x11 goto l4",
            f"if r6 == 0x0 goto ext{i}", f"if r6 == 0x2b goto ext{i}", f"if r6 == 0x3c goto ext{i}", "goto pass",
            f"ext{i}:",
            "r4 = r2", "r4 += 8", "if r4 > r3 goto pass",
            "r6 = *(u8 *)(r2 +0)", "r7 = *(u8 *)(r2 +1)", "r7 &= 3", "r7 += 1", "r7 <<= 3",
            "r2 += r7",
        ]
    body += ["goto pass", "l4:", "r4 = r2", "r4 += 4", "if r4 > r3 goto pass", "r0 = *(u16 *)(r2 +2)",
             "if r0 == 0x3500 goto drop", "pass:", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"]
    return program(
        "xdp_ipv6_ext_headers", "xdp", "packet, branch",
        "an XDP IPv6 parser that skips up to six extension headers (hop-by-hop, routing, destination "
        "options), each of variable length, to find the UDP/TCP destination port",
        body,
    )


@_gen
def hash_map_crud() -> str:
    body = ["r6 = r1"]
    for i in range(16):
        body += [
            f"*(u32 *)(r10 -4) = {i}", f"*(u64 *)(r10 -16) = {i * 3}", "*(u64 *)(r10 -24) = 0",
            "r1 = map[flows]", "r2 = r10", "r2 += -4", "r3 = r10", "r3 += -24", "r4 = 1",  # BPF_NOEXIST
            "call bpf_map_update_elem#2",
            "r1 = map[flows]", "r2 = r10", "r2 += -4", "call bpf_map_lookup_elem#1",
            f"if r0 == 0x0 goto skip{i}", "r1 = *(u64 *)(r0 +8)", "r1 += 1", "*(u64 *)(r0 +8) = r1",
            f"skip{i}:",
        ]
        if i % 4 == 3:
            body += ["r1 = map[flows]", "r2 = r10", "r2 += -4", "call bpf_map_delete_elem#3"]
    body += ["r0 = 0", "exit"]
    return program(
        "hash_map_crud", "sched_cls", "map, helper, stack",
        "creates 16 hash map entries from stack keys and values (BPF_NOEXIST), looks each up and increments "
        "it in place, and deletes every fourth",
        body, maps=["flows type=hash key=4 value=16 entries=128"],
    )


@_gen
def percpu_counters_atomic() -> str:
    body = ["r6 = r1", "r7 = *(u32 *)(r6 +0)"]
    for i in range(24):
        m = "pc" if i % 2 == 0 else "ac"
        body += [
            f"*(u32 *)(r10 -4) = {i % 8}", "r2 = r10", "r2 += -4", f"r1 = map[{m}]",
            "call bpf_map_lookup_elem#1", f"if r0 == 0x0 goto n{i}",
            "r1 = 1", f"lock *(u64 *)(r0 +{8 * (i % 4)}) += r1",
            "r1 = r7", f"r1 = atomic64_fetch_add((u64 *)(r0 +{8 * ((i + 1) % 4)}), r1)",
            f"n{i}:",
        ]
    body += ["r0 = 0", "exit"]
    return program(
        "percpu_counters_atomic", "socket_filter", "map, atomic, helper",
        "packet and byte counters kept in a per-CPU array and a shared array, updated with atomic add and "
        "atomic fetch-add at four offsets of each value",
        body, maps=["pc type=percpu_array key=4 value=32 entries=8", "ac type=array key=4 value=32 entries=8"],
    )


@_gen
def ringbuf_event_record() -> str:
    body = ["r6 = r1", "r1 = map[events]", "r2 = 256", "r3 = 0", "call bpf_ringbuf_reserve#131",
            "if r0 == 0x0 goto out", "r7 = r0", "call bpf_get_current_pid_tgid#14", "*(u64 *)(r7 +0) = r0",
            "call bpf_ktime_get_ns#5", "*(u64 *)(r7 +8) = r0"]
    regs = [112, 104, 96, 88, 72, 64, 80, 128, 152, 32]
    for i in range(29):
        body += [f"r1 = *(u64 *)(r6 +{regs[i % len(regs)]})", f"r1 ^= {i}", f"*(u64 *)(r7 +{16 + 8 * i}) = r1"]
    body += ["r1 = r7", "r1 += 248", "r2 = 8", "r3 = *(u64 *)(r6 +112)", "call bpf_probe_read_kernel#113",
             "r1 = *(u64 *)(r7 +248)", "if r1 == 0x0 goto discard",
             "r1 = r7", "r2 = 0", "call bpf_ringbuf_submit#132", "goto out",
             "discard:", "r1 = r7", "r2 = 0", "call bpf_ringbuf_discard#133", "out:", "r0 = 0", "exit"]
    return program(
        "ringbuf_event_record", "kprobe", "helper, map, ctx",
        "a kprobe reserves a 256-byte ring-buffer record, fills all of it (pid, time, registers, a "
        "probe_read_kernel straight into the record) and submits or discards it depending on the data",
        body, maps=["events type=ringbuf key=0 value=0 entries=4096"],
    )


@_gen
def subprog_pointer_args() -> str:
    body = [
        "r6 = r1", "*(u64 *)(r10 -8) = 0", "*(u64 *)(r10 -16) = 0",
        "*(u32 *)(r10 -20) = 0", "r2 = r10", "r2 += -20", "r1 = map[vals]", "call bpf_map_lookup_elem#1",
        "if r0 == 0x0 goto out", "r7 = r0",
        "r1 = r6", "r2 = r10", "r2 += -16", "call read_ctx_into",
        "r1 = r7", "r2 = *(u64 *)(r10 -16)", "call bump_value",
        "r1 = r10", "r1 += -8", "r2 = r7", "call copy_value",
        "r1 = r10", "r1 += -16", "r2 = r10", "r2 += -8", "call sum_two",
        "out:", "r0 = 0", "exit",
        "read_ctx_into:",
    ]
    for off in (0, 4, 8, 16, 32, 40):
        body += [f"r3 = *(u32 *)(r1 +{off})", "r4 = *(u64 *)(r2 +0)", "r4 += r3", "*(u64 *)(r2 +0) = r4"]
    body += ["r0 = 0", "exit", "bump_value:"]
    for k in range(8):
        body += [f"r3 = *(u64 *)(r1 +{8 * k})", "r3 += r2", f"*(u64 *)(r1 +{8 * k}) = r3"]
    body += ["r0 = 0", "exit", "copy_value:"]
    for k in range(8):
        body += [f"r3 = *(u64 *)(r2 +{8 * k})", "r4 = *(u64 *)(r1 +0)", "r4 ^= r3", "*(u64 *)(r1 +0) = r4"]
    body += ["r0 = 0", "exit", "sum_two:", "r0 = *(u64 *)(r1 +0)", "r3 = *(u64 *)(r2 +0)", "r0 += r3", "exit"]
    return program(
        "subprog_pointer_args", "socket_filter", "subprog, stack, map, ctx",
        "four bpf-to-bpf subprograms receiving pointers of three kinds: the context, a map value, and the "
        "caller's stack (read and written through the pointer)",
        body, maps=["vals type=array key=4 value=64 entries=1"],
    )


@_gen
def nested_bounded_loops() -> str:
    body = ["r6 = r1", "r0 = 0", "r7 = 0", "outer:", "r8 = 0", "inner:"]
    for i in range(20):
        body += ["r1 = r7", "r1 *= 8", "r1 += r8", f"r1 ^= {i}", "r0 += r1"]
    body += ["r8 += 1", "if r8 < 6 goto inner", "r7 += 1", "if r7 < 5 goto outer", "r0 &= 1", "exit"]
    return program(
        "nested_bounded_loops", "socket_filter", "loop, alu",
        "two nested counted loops (5 x 6 iterations) around a 100-instruction body: each iteration of both "
        "counters is a distinct state",
        body,
    )


@_gen
def stack_var_offset_table() -> str:
    body = ["r6 = r1"]
    for s in range(1, 9):
        body += [f"*(u64 *)(r10 -{8 * s}) = {s * 11}"]
    for i in range(20):
        body += [f"r1 = *(u32 *)(r6 +{[0, 4, 8, 16, 32][i % 5]})", "r1 &= 7", "r1 <<= 3",
                 "r2 = r10", "r2 += -64", "r2 += r1", "r3 = *(u64 *)(r2 +0)", "r3 += 1", "*(u64 *)(r2 +0) = r3"]
    body += ["r0 = *(u64 *)(r10 -8)", "r0 &= 1", "exit"]
    return program(
        "stack_var_offset_table", "socket_filter", "stack, memory, alu",
        "a 64-byte table on the stack indexed 20 times by a variable offset (an unknown in [0,56], 8-aligned): "
        "variable-offset stack reads and writes, allowed for privileged programs",
        body,
    )


@_gen
def sk_lookup_release_chain() -> str:
    body = ["r6 = r1"]
    for i in range(8):
        helper = "bpf_sk_lookup_tcp#84" if i % 2 == 0 else "bpf_sk_lookup_udp#85"
        body += [
            f"*(u32 *)(r10 -4) = {i}", "*(u64 *)(r10 -16) = 0", "*(u64 *)(r10 -24) = 0", "*(u64 *)(r10 -32) = 0",
            "*(u64 *)(r10 -40) = 0",
            "r1 = r6", "r2 = r10", "r2 += -40", "r3 = 12", "r4 = -1", "r5 = 0", f"call {helper}",
            f"if r0 == 0x0 goto miss{i}",
            "r1 = *(u32 *)(r0 +4)",  # bpf_sock->family
            "r1 = r0", "call bpf_sk_release#86", f"miss{i}:",
        ]
    body += ["r0 = 0", "exit"]
    return program(
        "sk_lookup_release_chain", "sched_cls", "helper, reference, ctx, stack",
        "eight TCP and UDP socket lookups by IPv4 tuple (a 12-byte tuple on the stack, current netns), each "
        "result NULL-checked, read and released: eight acquired references, all released",
        body,
    )


@_gen
def alu64_all_ops() -> str:
    ops = ["+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=", "s>>=", "s/=", "s%="]
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +16)", "r3 |= 1", "r0 = r2"]
    for op in ops:
        imm = 3 if "<" in op or ">" in op else 7
        body += [f"r0 {op} {imm}", "r4 = r2", f"r4 {op} r3" if "<" not in op and ">" not in op else f"r4 {op} 5",
                 "r0 ^= r4", "w5 = w2", f"w5 {op} {imm}", "r0 += r5"]
    body += ["r0 = -r0", "r4 = (s8)r0", "r5 = (s16)r0", "r0 ^= r4", "r0 ^= r5", "r0 = be64 r0", "r0 = le16 r0",
             "r0 = bswap32 r0", "r0 &= 1", "exit"]
    return program(
        "alu64_all_ops", "socket_filter", "alu, alu32",
        "every ALU operation of the instruction set, 64-bit and 32-bit, with immediate and register sources "
        "(add, sub, mul, div, mod, or, and, xor, shifts, signed div/mod, negation, sign extension, byte "
        "swaps) on context-derived unknowns",
        body,
    )


@_gen
def jmp_all_ops() -> str:
    ops = ["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"]
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +16)", "r0 = 0"]
    n = 0
    for op in ops:
        for form in (f"if r2 {op} 0x40 goto", f"if r2 {op} r3 goto", f"if w2 {op} 0x40 goto", f"if w2 {op} w3 goto",
                     f"if r3 {op} -3 goto", f"if w3 {op} -3 goto"):
            body += [f"{form} t{n}", "r0 += 1", f"t{n}:"]
            n += 1
    body += ["r0 &= 1", "exit"]
    return program(
        "jmp_all_ops", "socket_filter", "branch, alu32",
        "all eleven conditional jumps in six forms (64-bit and 32-bit, immediate, negative immediate and "
        "register), each guarding an increment: 66 unpredictable branches that pruning collapses",
        body,
    )


@_gen
def tracing_helper_tour() -> str:
    body = ["r6 = r1",
            "call bpf_get_current_pid_tgid#14", "r7 = r0",
            "call bpf_get_current_uid_gid#15", "r7 ^= r0",
            "call bpf_ktime_get_ns#5", "r7 ^= r0",
            "call bpf_ktime_get_boot_ns#125", "r7 ^= r0",
            "call bpf_jiffies64#118", "r7 ^= r0",
            "call bpf_get_smp_processor_id#8", "r7 ^= r0",
            "call bpf_get_numa_node_id#42", "r7 ^= r0",
            "call bpf_get_current_cgroup_id#80", "r7 ^= r0",
            "r1 = 1", "call bpf_get_current_ancestor_cgroup_id#123", "r7 ^= r0",
            "call bpf_get_current_task#35", "r7 ^= r0",
            "r1 = r6", "call bpf_get_func_ip#173", "r7 ^= r0",
            "r1 = r6", "call bpf_get_attach_cookie#174", "r7 ^= r0",
            "r1 = r10", "r1 += -16", "r2 = 16", "call bpf_get_current_comm#16", "r7 ^= r0",
            "r1 = r10", "r1 += -64", "r2 = 32", "r3 = *(u64 *)(r6 +112)", "call bpf_probe_read_kernel_str#115",
            "r7 ^= r0",
            "r1 = r10", "r1 += -96", "r2 = 32", "r3 = *(u64 *)(r6 +104)", "call bpf_probe_read_user#112",
            "r7 ^= r0",
            "r1 = r6", "r2 = r10", "r2 += -256", "r3 = 128", "r4 = 0", "call bpf_get_stack#67", "r7 ^= r0",
            "r1 = r7", "r1 &= 0", "call bpf_send_signal#109",
            "r0 = 0", "exit"]
    return program(
        "tracing_helper_tour", "kprobe", "helper, ctx, stack",
        "a kprobe calling fifteen tracing helpers once each (ids, times, cgroup, task, func ip, attach "
        "cookie, comm, string and user reads, a stack trace into a 128-byte buffer, send_signal)",
        body,
    )


@_gen
def tail_call_dispatch() -> str:
    body = ["r6 = r1", "r7 = *(u32 *)(r6 +16)", "r7 &= 15"]
    for i in range(16):
        body += [f"if r7 != {i} goto n{i}", "r1 = r6", "r2 = map[jmp]", f"r3 = {i}", "call bpf_tail_call#12",
                 "goto fallback", f"n{i}:"]
    body += ["r1 = r6", "r2 = map[jmp]", "r3 = r7", "call bpf_tail_call#12", "fallback:", "r0 = 0", "exit"]
    return program(
        "tail_call_dispatch", "sched_cls", "helper, map, branch",
        "a protocol dispatcher tail-calling into a 16-slot program array: 16 constant-index tail calls in a "
        "switch, then one with a variable index",
        body, maps=["jmp type=prog_array key=4 value=4 entries=16"],
    )


@_gen
def sock_ops_callbacks() -> str:
    body = ["r6 = r1", "r7 = *(u32 *)(r6 +0)", "r0 = 1"]
    for op in range(16):
        body += [f"if r7 == {op} goto op{op}"]
    body += ["goto out"]
    for op in range(16):
        body += [f"op{op}:", "r2 = *(u32 *)(r6 +72)", "if r2 == 0x0 goto out",
                 "r2 = *(u32 *)(r6 +76)", "r3 = *(u32 *)(r6 +80)", "r2 += r3",
                 f"*(u32 *)(r6 +4) = {op}",
                 "r1 = r6", f"r2 = {op % 8}", "call bpf_sock_ops_cb_flags_set#59", "goto out"]
    body += ["out:", "r0 = 1", "exit"]
    return program(
        "sock_ops_callbacks", "sock_ops", "ctx, helper, branch",
        "a sock_ops program switching over 16 callback ops: each checks is_fullsock, reads snd_cwnd and "
        "srtt_us, sets reply and the callback flags",
        body,
    )


@_gen
def connect4_redirect_table() -> str:
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +4)", "*(u32 *)(r10 -4) = r1", "r1 = map[backends]", "r2 = r10",
            "r2 += -4", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pass", "r7 = r0"]
    for i in range(16):
        body += [f"r1 = *(u32 *)(r7 +{4 * i})", f"if r1 == 0x0 goto try{i + 1}", "*(u32 *)(r6 +4) = r1",
                 f"r1 = *(u32 *)(r7 +{64 + 4 * i})", "*(u32 *)(r6 +24) = r1", "goto pass", f"try{i + 1}:"]
    body += ["pass:", "r0 = 1", "exit"]
    return program(
        "connect4_redirect_table", "cgroup_sock_addr", "ctx, map, helper",
        "a connect4 hook looks up the destination in a hash map of backend lists and rewrites user_ip4 and "
        "user_port to the first non-zero backend of sixteen",
        body, maps=["backends type=hash key=4 value=128 entries=256"], attach_type="cgroup_inet4_connect",
    )


@_gen
def tc_csum_rewrite() -> str:
    body = ["r6 = r1"]
    for i in range(12):
        body += ["r2 = *(u32 *)(r6 +76)", "r3 = *(u32 *)(r6 +80)", "r4 = r2", "r4 += 54", "if r4 > r3 goto out",
                 "r7 = *(u32 *)(r2 +26)", "r8 = r7", f"r8 ^= {i + 1}",
                 "r1 = r6", "r2 = 24", "r3 = r7", "r4 = r8", "r5 = 4", "call bpf_l3_csum_replace#10",
                 "r1 = r6", "r2 = 50", "r3 = r7", "r4 = r8", "r5 = 20", "call bpf_l4_csum_replace#11"]
    body += ["out:", "r0 = 0", "exit"]
    return program(
        "tc_csum_rewrite", "sched_cls", "packet, helper",
        "a tc NAT-like rewrite: twelve rounds of reading an IPv4 address and updating the IP and TCP checksums "
        "with bpf_l3_csum_replace and bpf_l4_csum_replace, reloading packet pointers after each helper",
        body,
    )


@_gen
def queue_stack_maps() -> str:
    body = []
    for i in range(10):
        body += [f"*(u64 *)(r10 -8) = {i}", "r1 = map[q]", "r2 = r10", "r2 += -8", "r3 = 0", "call bpf_map_push_elem#87",
                 "r1 = map[st]", "r2 = r10", "r2 += -8", "r3 = 0", "call bpf_map_push_elem#87"]
    for i in range(5):
        body += ["r1 = map[q]", "r2 = r10", "r2 += -16", "call bpf_map_pop_elem#88",
                 "r1 = map[st]", "r2 = r10", "r2 += -24", "call bpf_map_peek_elem#89",
                 "r1 = map[st]", "r2 = r10", "r2 += -24", "call bpf_map_pop_elem#88"]
    body += ["r0 = *(u64 *)(r10 -16)", "r0 &= 1", "exit"]
    return program(
        "queue_stack_maps", "socket_filter", "map, helper, stack",
        "a queue map and a stack map (no keys): ten pushes into each, then pops and peeks into uninitialized "
        "stack buffers that the helpers fill",
        body, maps=["q type=queue key=0 value=8 entries=32", "st type=stack key=0 value=8 entries=32"],
    )


@_gen
def reject_xdp_stale_pkt_after_adjust() -> str:
    body = ["r6 = r1"] + _xdp_bounds(96, "pass") + ["r0 = 0"]
    for i in range(48):
        body += [f"r5 = *(u16 *)(r2 +{2 * i})", "r0 += r5"]
    body += ["r7 = r2", "r1 = r6", "r2 = 14", "call bpf_xdp_adjust_head#44", "if r0 != 0x0 goto pass",
             "r0 = *(u8 *)(r7 +0)", "pass:", "r0 = 2", "exit"]
    return program(
        "reject_xdp_stale_pkt_after_adjust", "xdp", "packet, helper",
        "an XDP program reads 96 bytes, calls bpf_xdp_adjust_head, then dereferences a packet pointer saved "
        "from before the call: every packet pointer is invalidated by a helper that can move the data",
        body,
    )


def _parity_diamonds(n: int) -> list[str]:
    body = ["r6 = r1", "r8 = 0"]
    for i in range(n):
        body += [f"r2 = *(u32 *)(r6 +{[0, 16, 32, 40][i % 4]})", f"if r2 & 0x{1 << (i % 31):x} goto a{i}",
                 "r8 ^= 1", f"goto j{i}", f"a{i}:", "r7 = r2", f"j{i}:"]
    return body + ["r0 = r8", "r0 &= 1", "exit"]


@_gen
def precise_parity_diamonds() -> str:
    return program(
        "precise_parity_diamonds", "cgroup_skb", "branch, prune, precision, retval",
        "100 diamonds each flip the parity in r8 on one arm; r8 becomes the return value, which the exit check "
        "of a cgroup skb program makes precise, so precision propagates back through every diamond and the "
        "joins keep one state per parity",
        _parity_diamonds(100), attach_type="cgroup_inet_ingress",
    )


@_gen
def loop_counter_spilled() -> str:
    body = ["r6 = r1", "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[vals]",
            "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r7 = r0", "*(u64 *)(r10 -16) = 0", "loop:"]
    for k in range(16):
        body += [f"r3 = *(u32 *)(r6 +{[0, 4, 8, 16][k % 4]})", "r3 &= 7", "r9 += r3" if k else "r9 = r3"]
    body += ["r1 = *(u64 *)(r10 -16)", "r2 = r7", "r2 += r1", "*(u8 *)(r2 +0) = r9",
             "r1 += 1", "*(u64 *)(r10 -16) = r1", "if r1 < 48 goto loop", "out:", "r0 = 0", "exit"]
    return program(
        "loop_counter_spilled", "socket_filter", "loop, stack, map, precision",
        "a 48-iteration loop whose counter lives on the stack: filled, used as a map value index (which makes "
        "it precise through the spill), incremented and spilled again each iteration",
        body, maps=["vals type=array key=4 value=64 entries=1"],
    )


@_gen
def subprog_many_call_sites() -> str:
    body = ["r6 = r1", "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[vals]",
            "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r7 = r0"]
    for i in range(20):
        body += [f"r1 = {i * 3}", "r2 = *(u32 *)(r6 +0)", "call clamp", "r1 = r7", "r1 += r0", f"*(u8 *)(r1 +0) = {i}"]
    body += ["out:", "r0 = 0", "exit",
             "clamp:", "r2 &= 3", "r0 = r1", "r0 += r2", "if r0 > 0x3f goto big", "exit", "big:", "r0 = 63", "exit"]
    return program(
        "subprog_many_call_sites", "socket_filter", "subprog, map, precision",
        "one subprogram called from 20 sites with a different constant each time; its result (the constant "
        "plus a small unknown, clamped) indexes a map value in the caller, so the bounds and the precision "
        "of the result cross the call's exit",
        body, maps=["vals type=array key=4 value=64 entries=1"],
    )


@_gen
def subprog_diamonds_called_often() -> str:
    body = ["r6 = r1", "r9 = 0"]
    for i in range(12):
        body += ["r1 = r6", f"r2 = {i}", "call classify", "r9 += r0"]
    body += ["r0 = r9", "r0 &= 1", "exit", "classify:", "r0 = 0"]
    for i in range(16):
        body += [f"r3 = *(u32 *)(r1 +{[0, 4, 8, 16][i % 4]})", f"if r3 & 0x{1 << i:x} goto c{i}", "r0 += r2",
                 f"goto d{i}", f"c{i}:", "r0 += 1", f"d{i}:"]
    body += ["exit"]
    return program(
        "subprog_diamonds_called_often", "socket_filter", "subprog, branch, prune",
        "a subprogram of 16 diamonds over context fields, called 12 times with different arguments: each call "
        "is verified in its own caller context, and pruning inside the callee must respect the frames",
        body,
    )


@_gen
def xdp_vlan_qinq_dispatch() -> str:
    body = _xdp_bounds(14, "pass") + ["r5 = *(u16 *)(r2 +12)", "r6 = 14"]
    for tag in range(2):
        body += [f"if r5 == 0x81 goto vlan{tag}", f"if r5 == 0xa888 goto vlan{tag}", "goto l3",
                 f"vlan{tag}:", "r4 = r2", f"r4 += {18 + 4 * tag}", "if r4 > r3 goto pass",
                 f"r7 = *(u16 *)(r2 +{14 + 4 * tag})", "r7 &= 0xff0f", f"r5 = *(u16 *)(r2 +{16 + 4 * tag})",
                 "r6 += 4"]
    body += ["l3:", "if r5 == 0x8 goto ipv4", "if r5 == 0xdd86 goto ipv6", "goto pass",
             "ipv4:", "r2 += r6", "r4 = r2", "r4 += 28", "if r4 > r3 goto pass", "r7 = *(u8 *)(r2 +9)",
             "if r7 != 17 goto pass", "r8 = *(u16 *)(r2 +22)", "goto ports",
             "ipv6:", "r2 += r6", "r4 = r2", "r4 += 48", "if r4 > r3 goto pass", "r7 = *(u8 *)(r2 +6)",
             "if r7 != 17 goto pass", "r8 = *(u16 *)(r2 +42)",
             "ports:"]
    for port in (53, 67, 68, 123, 161, 443, 500, 514, 1812, 4500, 4789, 6081):
        swapped = ((port & 0xff) << 8) | (port >> 8)
        body += [f"if r8 == 0x{swapped:x} goto drop"]
    body += ["pass:", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"]
    return program(
        "xdp_vlan_qinq_dispatch", "xdp", "packet, branch",
        "an XDP filter that skips up to two VLAN tags (802.1Q and 802.1ad), then dispatches on IPv4 or IPv6 to a "
        "UDP destination port compared against twelve well-known ports; the L3 header sits at a variable offset "
        "(14, 18 or 22) re-proven against data_end",
        body,
    )


@_gen
def tc_ttl_decrement_csum() -> str:
    body = ["r6 = r1", "r2 = *(u32 *)(r6 +76)", "r3 = *(u32 *)(r6 +80)", "r4 = r2", "r4 += 34",
            "if r4 > r3 goto out", "r5 = *(u16 *)(r2 +12)", "if r5 != 0x8 goto out",
            "r7 = *(u8 *)(r2 +22)", "if r7 <= 1 goto drop",
            "r7 += -1", "*(u8 *)(r2 +22) = r7",
            "r8 = *(u16 *)(r2 +24)", "r8 += 1"]
    for _ in range(3):
        body += ["r9 = r8", "r9 >>= 16", "r8 &= 0xffff", "r8 += r9"]
    body += ["*(u16 *)(r2 +24) = r8", "r0 = 0"]
    for i in range(10):
        body += [f"r9 = *(u16 *)(r2 +{14 + 2 * i})", "r0 += r9"]
    for _ in range(2):
        body += ["r9 = r0", "r9 >>= 16", "r0 &= 0xffff", "r0 += r9"]
    body += ["if r0 != 0xffff goto drop", "out:", "r0 = 0", "exit", "drop:", "r0 = 2", "exit"]
    return program(
        "tc_ttl_decrement_csum", "sched_cls", "packet, alu, branch",
        "a tc router step: decrement the IPv4 TTL in place, patch the header checksum incrementally (RFC 1624 "
        "style carry folding), then verify the whole 20-byte header checksum by summing ten half-words",
        body,
    )


@_gen
def kprobe_pointer_chase() -> str:
    body = ["r6 = r1", "r3 = *(u64 *)(r6 +112)"]
    offs = [0, 8, 16, 24, 1304, 2312, 64, 8, 40, 96, 16, 0]
    for i, off in enumerate(offs):
        body += ["if r3 == 0x0 goto out", f"r3 += {off}", "r1 = r10", "r1 += -8", "r2 = 8",
                 "call bpf_probe_read_kernel#113", "if r0 != 0x0 goto out", "r3 = *(u64 *)(r10 -8)",
                 f"*(u64 *)(r10 -{16 + 8 * i}) = r3"]
    body += ["r1 = map[events]", "r2 = r10", "r2 += -112", "r3 = 96", "r4 = 0", "call bpf_ringbuf_output#130",
             "out:", "r0 = 0", "exit"]
    return program(
        "kprobe_pointer_chase", "kprobe", "helper, stack, map",
        "a kprobe follows a chain of twelve kernel pointers starting at its first argument, one "
        "bpf_probe_read_kernel per hop with NULL and error checks, keeping each hop on the stack, and emits "
        "the 96-byte trail to a ring buffer",
        body, maps=["events type=ringbuf key=0 value=0 entries=4096"],
    )


@_gen
def sock_ops_rtt_log2_histogram() -> str:
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)", "if r1 != 0x4 goto out", "r2 = *(u32 *)(r6 +80)",
            "r3 = 0"]
    for bit in (16, 8, 4, 2, 1):
        body += ["r4 = r2", f"r4 >>= {bit}", f"if r4 == 0x0 goto s{bit}", "r2 = r4", f"r3 += {bit}", f"s{bit}:"]
    body += ["r8 = r3", "*(u32 *)(r10 -4) = r8", "r2 = r10", "r2 += -4", "r1 = map[hist]",
             "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r1 = 1", "lock *(u64 *)(r0 +0) += r1",
             "*(u32 *)(r10 -4) = r8", "r2 = r10", "r2 += -4", "r1 = map[pcpu]", "call bpf_map_lookup_elem#1",
             "if r0 == 0x0 goto out", "r1 = *(u32 *)(r6 +76)", "r2 = *(u64 *)(r0 +8)", "r2 += r1",
             "*(u64 *)(r0 +8) = r2",
             "out:", "r0 = 1", "exit"]
    return program(
        "sock_ops_rtt_log2_histogram", "sock_ops", "ctx, map, alu, branch",
        "a sock_ops program bins srtt_us by its base-2 logarithm (five shift-and-test steps) into an array "
        "histogram and a per-CPU array of summed congestion windows",
        body, maps=["hist type=array key=4 value=8 entries=32", "pcpu type=percpu_array key=4 value=16 entries=32"],
    )


@_gen
def reject_log2_index_off_by_one() -> str:
    body = ["r6 = r1", "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[hist]",
            "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r7 = r0",
            "r2 = *(u32 *)(r6 +0)", "r3 = 0"]
    for bit in (16, 8, 4, 2, 1):
        body += ["r4 = r2", f"r4 >>= {bit}", f"if r4 == 0x0 goto s{bit}", "r2 = r4", f"r3 += {bit}", f"s{bit}:"]
    body += ["r3 += 1", "r3 <<= 3", "r7 += r3", "r1 = *(u64 *)(r7 +0)", "r1 += 1", "*(u64 *)(r7 +0) = r1",
             "out:", "r0 = 0", "exit"]
    return program(
        "reject_log2_index_off_by_one", "socket_filter", "map, alu, branch",
        "a log2 histogram kept in one 256-byte map value (32 u64 buckets): the bucket index is log2 + 1, which "
        "reaches 32 for the largest lengths, one bucket past the end",
        body, maps=["hist type=array key=4 value=256 entries=1"],
    )


@_gen
def socket_filter_cbpf_style() -> str:
    body = ["r6 = r1", "r0 = *(u16 *)skb[12]", "if r0 == 0x86dd goto v6", "if r0 != 0x800 goto drop",
            "r0 = *(u8 *)skb[23]", "if r0 != 0x6 goto drop", "r0 = *(u16 *)skb[20]", "r0 &= 0x1fff",
            "if r0 != 0x0 goto drop", "r0 = *(u8 *)skb[14]", "r7 = r0", "r7 &= 15", "r7 <<= 2"]
    for port in (80, 443, 8080, 8443):
        body += ["r0 = *(u16 *)skb[r7 + 14]", f"if r0 == {port} goto keep", "r0 = *(u16 *)skb[r7 + 16]",
                 f"if r0 == {port} goto keep"]
    body += ["goto drop", "v6:", "r0 = *(u8 *)skb[20]", "if r0 != 0x6 goto drop"]
    for port in (80, 443, 8080, 8443):
        body += ["r0 = *(u16 *)skb[54]", f"if r0 == {port} goto keep", "r0 = *(u16 *)skb[56]",
                 f"if r0 == {port} goto keep"]
    body += ["drop:", "r0 = 0", "exit", "keep:", "r0 = 262144", "exit"]
    return program(
        "socket_filter_cbpf_style", "socket_filter", "packet, branch, ctx",
        "what tcpdump's 'tcp port 80 or 443 or 8080 or 8443' becomes: legacy LD_ABS/LD_IND loads for Ethernet, "
        "IPv4 (fragment check, IHL-relative ports) and IPv6 headers, a chain of port comparisons",
        body,
    )


@_gen
def xdp_flow_hash_mix() -> str:
    body = _xdp_bounds(54, "pass") + ["r5 = *(u16 *)(r2 +12)", "if r5 != 0x8 goto pass",
                                      "r6 = *(u32 *)(r2 +26)", "r7 = *(u32 *)(r2 +30)", "r8 = *(u32 *)(r2 +34)",
                                      "r0 = 0x9e3779b9"]
    for i in range(24):
        src = ["r6", "r7", "r8"][i % 3]
        body += [f"w0 ^= w{src[1]}", "w0 *= 0x85ebca6b", "w9 = w0", f"w9 >>= {13 + i % 5}", "w0 ^= w9",
                 f"w0 += {i}"]
    body += ["w0 &= 3", "*(u32 *)(r10 -4) = r0", "r2 = r10", "r2 += -4", "r1 = map[cnt]",
             "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pass", "r1 = 1", "lock *(u64 *)(r0 +0) += r1",
             "pass:", "r0 = 2", "exit"]
    return program(
        "xdp_flow_hash_mix", "xdp", "packet, alu32, map",
        "an XDP program hashes the IPv4 addresses and ports with 24 rounds of 32-bit multiply-xorshift mixing "
        "(murmur-like), then counts the flow in one of four per-CPU buckets",
        body, maps=["cnt type=percpu_array key=4 value=8 entries=4"],
    )
