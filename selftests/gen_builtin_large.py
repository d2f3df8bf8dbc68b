"""Built-in corpus: the complex (1000-9999 instructions) and maximum-size (10000 and more) programs.

These are the programs that make a verifier work: long packet parsers with a
bounds check per step, helper-heavy rewriters that must reload packet
pointers, chains of diamonds that pruning has to collapse, trees of
bpf-to-bpf calls, a switch over hundreds of cases, and, in the maximum class,
programs at the kernel's limits: the whole 512-byte stack, eight call frames
sharing exactly 512 bytes of stack, a loop whose unrolled exploration
processes hundreds of thousands of instructions, and the 8192 pending-branch
limit. Each maximum program stays under about 20 s in pyverifier (its time at
log level 2 on the reference machine is in its description).
"""
from __future__ import annotations

from typing import Callable

from .gen_header import program

GENERATORS: dict[str, Callable[[], str]] = {}


def _gen(fn: Callable[[], str]) -> Callable[[], str]:
    GENERATORS[fn.__name__] = fn
    return fn


# --- complex --------------------------------------------------------------------------
@_gen
def complex_xdp_tlv_walker() -> str:
    """120 TLV options walked with a bounds check each, the pointer advancing by a variable length."""
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r0 = 0"]
    for i in range(120):
        body += [
            "r4 = r2", "r4 += 2", "if r4 > r3 goto done",
            "r5 = *(u8 *)(r2 +0)", "if r5 == 0x0 goto done",
            "r0 += r5",
            "r5 = *(u8 *)(r2 +1)", "r5 &= 7", "r5 += 2",
            "r2 += r5",
        ]
    body += ["done:", "r0 &= 1", "r0 += 1", "exit"]
    return program(
        "complex_xdp_tlv_walker", "xdp", "packet, branch, alu",
        "an XDP parser walks 120 type-length-value options unrolled: each step proves two bytes against "
        "data_end, stops at option 0, and advances the packet pointer by a variable length in [2,9], so the "
        "pointer's variable offset grows step by step",
        body,
    )


@_gen
def complex_tc_store_bytes_rewriter() -> str:
    """100 rounds of reload-check-read-store: every bpf_skb_store_bytes invalidates packet pointers."""
    body = ["r6 = r1", "r9 = 0"]
    for i in range(100):
        off = 14 + (i % 20)
        body += [
            "r2 = *(u32 *)(r6 +76)", "r3 = *(u32 *)(r6 +80)",
            "r4 = r2", "r4 += 34", "if r4 > r3 goto out",
            f"r5 = *(u8 *)(r2 +{off})", f"r5 ^= {i + 1}", "r9 += r5",
            "*(u64 *)(r10 -8) = r5",
            "r1 = r6", f"r2 = {off}", "r3 = r10", "r3 += -8", "r4 = 1", "r5 = 0",
            "call bpf_skb_store_bytes#9",
        ]
    body += ["out:", "r0 = r9", "r0 &= 1", "exit"]
    return program(
        "complex_tc_store_bytes_rewriter", "sched_cls", "packet, helper, ctx, stack",
        "a tc program rewrites 100 header bytes one at a time with bpf_skb_store_bytes; that helper may move "
        "the packet, so every round reloads data and data_end and proves the range again",
        body,
    )


@_gen
def complex_diamond_chain() -> str:
    """500 diamonds on fresh unknowns; the joins prune because the accumulator is never precise."""
    body = ["r6 = r1", "r0 = 0"]
    for i in range(500):
        body += [
            f"r2 = *(u32 *)(r6 +{(i % 5) * 4})",
            f"if r2 & 0x{1 << (i % 31):x} goto a{i}",
            "r0 += 1", f"goto j{i}",
            f"a{i}:", "r0 += 3",
            f"j{i}:",
        ]
    body += ["r0 &= 1", "exit"]
    return program(
        "complex_diamond_chain", "socket_filter", "branch, prune",
        "500 if/else diamonds in a row, each testing a bit of a freshly loaded context field and adding a "
        "different constant to an accumulator: 2^500 paths, explored linearly only because the states at each "
        "join are equivalent (the accumulator is not precise)",
        body,
    )


@_gen
def complex_subprog_tree() -> str:
    """A complete binary tree of 63 subprograms, six calls deep, each mixing its argument."""
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)", "call f1", "r0 &= 1", "exit"]
    for n in range(1, 64):
        body += [f"f{n}:", "r6 = r1", f"r6 ^= {n * 2654435761 % 65536}", "r6 *= 31", "r6 >>= 3",
                 f"*(u64 *)(r10 -{8 * (1 + n % 4)}) = r6"]
        for k in range(8):
            body += [f"r6 += {k + n}", "r6 ^= r1"]
        if 2 * n + 1 < 64:
            body += ["r1 = r6", f"call f{2 * n}", "r7 = r0", "r1 = r6", f"call f{2 * n + 1}", "r0 += r7"]
        else:
            body += ["r0 = r6"]
        body += [f"r1 = *(u64 *)(r10 -{8 * (1 + n % 4)})", "r0 += r1", "exit"]
    return program(
        "complex_subprog_tree", "socket_filter", "subprog, stack, alu",
        "a complete binary tree of 63 bpf-to-bpf subprograms (six levels of calls below main, seven frames); "
        "each spills to its own stack frame, calls its two children and adds their results",
        body,
    )


@_gen
def complex_map_multi_lookup() -> str:
    """80 lookups over four kinds of map, each NULL-checked and updated in place."""
    maps = ["h type=hash key=4 value=16 entries=64", "a type=array key=4 value=16 entries=64",
            "pa type=percpu_array key=4 value=16 entries=64", "lru type=lru_hash key=4 value=16 entries=64"]
    names = ["h", "a", "pa", "lru"]
    body = ["r6 = r1", "r9 = 0"]
    for i in range(80):
        m = names[i % 4]
        body += [
            "r1 = *(u32 *)(r6 +0)", f"r1 &= {31 + i % 32}", "*(u32 *)(r10 -4) = r1",
            "r2 = r10", "r2 += -4", f"r1 = map[{m}]", "call bpf_map_lookup_elem#1",
            f"if r0 == 0x0 goto miss{i}",
            f"r1 = *(u64 *)(r0 +{8 * (i % 2)})", "r1 += 1", f"*(u64 *)(r0 +{8 * (i % 2)}) = r1", "r9 += r1",
            f"miss{i}:",
        ]
    body += ["r0 = r9", "r0 &= 1", "exit"]
    return program(
        "complex_map_multi_lookup", "socket_filter", "map, helper, branch",
        "80 lookups spread over a hash, an array, a per-CPU array and an LRU hash map, each key derived from "
        "the packet length, each result NULL-checked and incremented in place",
        body, maps=maps,
    )


@_gen
def complex_stack_permute() -> str:
    """40 rounds of rotating 32 spilled scalars through the registers."""
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)"]
    for s in range(1, 33):
        body += ["r2 = r1", f"r2 += {s}", f"*(u64 *)(r10 -{8 * s}) = r2"]
    for r in range(40):
        body.append("r3 = *(u64 *)(r10 -8)")
        for s in range(1, 32):
            body += [f"r2 = *(u64 *)(r10 -{8 * (s + 1)})", f"*(u64 *)(r10 -{8 * s}) = r2"]
        body += [f"r3 ^= {r}", "*(u64 *)(r10 -256) = r3"]
    body += ["r0 = *(u64 *)(r10 -8)", "r0 &= 1", "exit"]
    return program(
        "complex_stack_permute", "socket_filter", "stack, memory",
        "32 spilled scalars rotated through the stack 40 times (a fill and a spill per slot per round): the "
        "verifier tracks every slot's spilled register through 2500 stack moves",
        body,
    )


@_gen
def complex_switch_dispatch() -> str:
    """A switch over 300 cases written as a compare chain, each case with its own small body."""
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)", "r1 &= 511", "r0 = 0"]
    for i in range(300):
        body.append(f"if r1 == {i} goto case{i}")
    body += ["r0 = 1", "goto end"]
    for i in range(300):
        body += [f"case{i}:", f"r0 = {i}", f"r0 *= {i % 7 + 1}", "r0 ^= r1", "goto end"]
    body += ["end:", "r0 &= 1", "exit"]
    return program(
        "complex_switch_dispatch", "socket_filter", "branch, prune",
        "a 300-way switch compiled as a chain of equality tests on a 9-bit value; every case makes the "
        "value a constant and all of them meet at one exit",
        body,
    )


@_gen
def complex_kprobe_probe_reads() -> str:
    """150 probe_read_kernel calls of varying sizes into a 256-byte stack buffer."""
    body = ["r6 = r1", "r9 = 0"]
    for i in range(150):
        size = 8 * (1 + i % 8)
        off = 256 - 8 * (i % 16)
        if off - size < 0:
            off = 256
        body += [
            "r1 = r10", f"r1 += -{off}", f"r2 = {size}",
            f"r3 = *(u64 *)(r6 +{[112, 104, 96, 88][i % 4]})",
            "call bpf_probe_read_kernel#113",
            f"r1 = *(u64 *)(r10 -{off})", "r9 += r1",
        ]
    body += ["r0 = r9", "r0 &= 1", "exit"]
    return program(
        "complex_kprobe_probe_reads", "kprobe", "helper, stack, ctx",
        "a kprobe copies kernel memory pointed to by its argument registers 150 times into different windows "
        "of a 256-byte stack buffer (bpf_probe_read_kernel, uninitialized memory as destination) and reads "
        "the first word of each copy back",
        body,
    )


@_gen
def complex_bounded_loop_big_body() -> str:
    """An eight-iteration loop whose body is 160 unrolled ALU rounds."""
    body = ["r6 = r1", "r7 = *(u32 *)(r6 +0)", "r8 = 0", "r0 = 0", "loop:"]
    for i in range(170):
        body += ["r0 ^= r7", f"r0 += {i + 1}", "r2 = r0", f"r2 >>= {i % 13 + 1}", "r0 ^= r2", "w7 += w0"]
    body += ["r8 += 1", "if r8 < 8 goto loop", "r0 &= 1", "exit"]
    return program(
        "complex_bounded_loop_big_body", "socket_filter", "loop, alu, alu32",
        "a counted loop of 8 iterations around 1020 instructions of mixing arithmetic: the verifier walks the "
        "body once per iteration because the counter differs each time",
        body,
    )


@_gen
def complex_alu32_rounds() -> str:
    """300 rounds of every 32-bit ALU operation on context-derived values."""
    ops = ["w0 += w2", "w0 -= w3", "w0 *= 7", "w0 |= w2", "w0 &= 0x7fffffff", "w0 ^= w3",
           "w0 <<= 3", "w0 >>= 1", "w0 s>>= 2", "w2 = -w2", "w3 /= 3", "w2 %= 11"]
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +16)", "r0 = 0"]
    for i in range(300):
        body += [ops[(i + k) % len(ops)] for k in range(4)]
    body += ["r0 &= 1", "exit"]
    return program(
        "complex_alu32_rounds", "socket_filter", "alu32, alu",
        "1200 32-bit ALU instructions (add, sub, mul, or, and, xor, shifts, negation, division, modulo) "
        "cycling over three registers: every operation's 32-bit bounds and tnum rule, with zero extension",
        body,
    )


@_gen
def reject_complex_late_oob() -> str:
    """1000 correct map accesses, then one past the end of the value."""
    body = ["r6 = r1", "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[vals]",
            "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r7 = r0", "r8 = 0"]
    for i in range(330):
        body += [f"r1 = *(u8 *)(r7 +{i % 256})", "r8 += r1", f"*(u8 *)(r7 +{(i * 7) % 256}) = r1"]
    body += ["r1 = *(u8 *)(r7 +256)", "out:", "r0 = 0", "exit"]
    return program(
        "reject_complex_late_oob", "socket_filter", "map, memory",
        "almost a thousand byte loads and stores inside a 256-byte map value, then one load at offset 256, "
        "one past its end, at the very end of the program",
        body, maps=["vals type=array key=4 value=256 entries=1"],
    )


@_gen
def reject_complex_uninit_one_path() -> str:
    """300 one-armed ifs that may each set r9: only the path skipping all of them leaves it unset."""
    body = ["r6 = r1", "r0 = 0"]
    for i in range(300):
        body += [f"r2 = *(u32 *)(r6 +{(i % 5) * 4})", f"if r2 & 0x{1 << (i % 31):x} goto s{i}",
                 f"r9 = {i}", f"s{i}:", "r0 += 1"]
    body += ["r0 += r9", "r0 &= 1", "exit"]
    return program(
        "reject_complex_uninit_one_path", "socket_filter", "branch, prune",
        "300 one-armed ifs each may set r9; r9 is read at the end, and only the one path that skips all "
        "300 assignments (of 2^300) reads it uninitialized; pruning must not hide that path",
        body,
    )


@_gen
def reject_complex_ringbuf_leak_deep() -> str:
    """A ring-buffer record reserved, 200 diamonds, and one early exit that forgets to submit it."""
    body = ["r6 = r1", "r1 = map[events]", "r2 = 64", "r3 = 0", "call bpf_ringbuf_reserve#131",
            "if r0 == 0x0 goto none", "r7 = r0", "r9 = 0"]
    for i in range(200):
        body += [f"r2 = *(u64 *)(r6 +{[112, 104, 96, 88, 80][i % 5]})", f"if r2 & 0x{1 << (i % 31):x} goto a{i}",
                 "r9 += 1", f"goto j{i}", f"a{i}:", "r9 += 2", f"j{i}:"]
        if i == 150:
            body += ["r2 = *(u64 *)(r6 +80)", "if r2 == 0x7 goto forget"]
    body += ["*(u64 *)(r7 +0) = r9", "r1 = r7", "r2 = 0", "call bpf_ringbuf_submit#132", "none:", "r0 = 0", "exit",
             "forget:", "r0 = 1", "exit"]
    return program(
        "reject_complex_ringbuf_leak_deep", "kprobe", "helper, map, branch",
        "a kprobe reserves a ring-buffer record and walks 200 diamonds before submitting it; one rare path "
        "in the middle exits early and leaks the reservation",
        body, maps=["events type=ringbuf key=0 value=0 entries=4096"],
    )


@_gen
def complex_xdp_ipv4_options_csum() -> str:
    """Bounds-check a 1024-byte region once, then fold 512 half-words into a checksum."""
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = r2", "r4 += 1024", "if r4 > r3 goto pass",
            "r0 = 0"]
    for i in range(512):
        body += [f"r5 = *(u16 *)(r2 +{2 * i})", "r0 += r5"]
    for _ in range(2):
        body += ["r1 = r0", "r1 >>= 16", "r0 &= 65535", "r0 += r1"]
    body += ["if r0 == 0xffff goto drop", "pass:", "r0 = 2", "exit", "drop:", "r0 = 1", "exit"]
    return program(
        "complex_xdp_ipv4_options_csum", "xdp", "packet, alu",
        "one comparison against data_end proves 1024 bytes readable; 512 half-word loads at constant offsets "
        "up to 1022 are summed into a ones'-complement checksum",
        body,
    )


@_gen
def complex_precise_parity_diamonds() -> str:
    from .gen_builtin_medium import _parity_diamonds

    return program(
        "complex_precise_parity_diamonds", "cgroup_skb", "branch, prune, precision, retval",
        "300 diamonds each flip the parity in r8 on one arm; r8 is the cgroup skb verdict, made precise at exit, "
        "so backtracking walks all 300 diamonds and the joins keep one state per parity",
        _parity_diamonds(300), attach_type="cgroup_inet_ingress",
    )


# --- maximum ----------------------------------------------------------------------------
@_gen
def max_stack_512_straightline() -> str:
    """Over 10000 instructions mixing all 64 stack slots: the full 512-byte stack."""
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)", "r2 = *(u32 *)(r6 +16)"]
    for s in range(1, 65):
        body += ["r3 = r1", f"r3 += {s}", f"*(u64 *)(r10 -{8 * s}) = r3"]
    for r in range(2550):
        a, b = 1 + (r * 7) % 64, 1 + (r * 13 + 5) % 64
        body += [f"r3 = *(u64 *)(r10 -{8 * a})", "r3 ^= r2", f"*(u64 *)(r10 -{8 * b}) = r3", f"r2 += {r % 97}"]
    body += ["r0 = *(u64 *)(r10 -512)", "r0 &= 1", "exit"]
    return program(
        "max_stack_512_straightline", "socket_filter", "stack, memory, alu",
        ["the whole 512-byte stack (64 slots) in use for over 10000 straight-line instructions: loads,",
         "mixing and stores between slots in a scrambled order, so every fill must find the right spill",
         "(pyverifier: about 0.5 s)"],
        body,
    )


@_gen
def max_call_chain_8_frames() -> str:
    """Main plus seven nested calls (eight frames), 64 bytes of stack each: exactly 512 combined."""
    body = ["r1 = *(u32 *)(r1 +0)", "*(u64 *)(r10 -64) = r1", "call f1",
            "r1 = *(u64 *)(r10 -64)", "r0 += r1", "r0 &= 1", "exit"]
    for depth in range(1, 8):
        body += [f"f{depth}:", "r6 = r1"]
        for s in range(1, 9):
            body += ["r2 = r6", f"r2 += {s * depth}", f"*(u64 *)(r10 -{8 * s}) = r2"]
        for r in range(360):
            a, b = 1 + (r * 3) % 8, 1 + (r * 5 + 1) % 8
            body += [f"r2 = *(u64 *)(r10 -{8 * a})", f"r2 ^= {r + depth}", f"*(u64 *)(r10 -{8 * b}) = r2",
                     "r6 += r2"]
        if depth < 7:
            body += ["r1 = r6", f"call f{depth + 1}", "r0 += r6"]
        else:
            body += ["r0 = r6"]
        body += ["r1 = *(u64 *)(r10 -64)", "r0 ^= r1", "exit"]
    return program(
        "max_call_chain_8_frames", "socket_filter", "subprog, stack",
        ["eight frames at once (main and seven nested bpf-to-bpf calls, the deepest chain allowed), each",
         "using 64 bytes of its own stack, so the combined stack is exactly the 512-byte limit; every",
         "subprogram runs 1440 instructions of spills and fills (pyverifier: about 0.5 s)"],
        body,
    )


@_gen
def max_loop_processed() -> str:
    """A 32-iteration counted loop around a 10000-instruction body: about 320000 processed insns."""
    body = ["r6 = r1", "r7 = *(u32 *)(r6 +0)", "r8 = 0", "r0 = 0", "loop:"]
    for i in range(2000):
        body += ["r0 ^= r7", f"r0 += {i + 1}", "r2 = r0", f"r2 >>= {i % 13 + 1}", "w7 += w2"]
    body += ["r8 += 1", "if r8 < 32 goto loop", "r0 &= 1", "exit"]
    return program(
        "max_loop_processed", "socket_filter", "loop, alu, alu32",
        ["a counted loop of 32 iterations around a 10000-instruction body: both verifiers walk the body",
         "once per iteration, about 320000 processed instructions, a third of the 1,000,000 limit",
         "(pyverifier: about 9 s at log level 2)"],
        body,
    )


@_gen
def reject_max_jump_sequence() -> str:
    """More than 8192 branches pending at once: the kernel's jump-sequence limit."""
    body = ["r6 = r1", "r1 = *(u32 *)(r6 +0)", "r0 = 0"]
    for i in range(8300):
        body += [f"if r1 == {i} goto l{i}", f"l{i}:"]
    for i in range(1000):
        body += ["r0 += r1", "r0 ^= 5"]
    body += ["r0 &= 1", "exit"]
    return program(
        "reject_max_jump_sequence", "socket_filter", "branch, prune",
        ["8300 conditional jumps in a row whose targets are the next instruction: each pushes a pending",
         "branch, and the 8193rd exceeds the kernel's limit on the jump sequence (pyverifier: under 1 s)"],
        body,
    )


@_gen
def max_xdp_tlv_walker() -> str:
    """1000 TLV options walked with a bounds check each (over 10000 instructions)."""
    body = ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r0 = 0"]
    for i in range(1000):
        body += [
            "r4 = r2", "r4 += 2", "if r4 > r3 goto done",
            "r5 = *(u8 *)(r2 +0)", "if r5 == 0x0 goto done",
            "r0 += r5",
            "r5 = *(u8 *)(r2 +1)", "r5 &= 3", "r5 += 2",
            "r2 += r5",
        ]
    body += ["done:", "r0 &= 1", "r0 += 1", "exit"]
    return program(
        "max_xdp_tlv_walker", "xdp", "packet, branch, alu",
        ["an XDP parser walking 1000 type-length-value options unrolled (over 10000 instructions): each",
         "step proves two bytes against data_end and advances the pointer by a variable length in [2,5];",
         "the variable offset grows to 5000, within the 64 KiB packet offset limit (pyverifier: about 0.5 s)"],
        body,
    )
