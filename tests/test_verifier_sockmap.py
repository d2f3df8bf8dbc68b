"""Updating and deleting sockmap/sockhash elements from programs (pyverifier.calls, pyverifier.maps).

A sockmap's value, as a helper argument, is a socket (the kernel's resolve_map_arg_type), and
only some program types may update or delete elements (may_update_sockmap). Every program is
compared in full with the live kernel.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.insn import encode
from pyverifier.program import MapSpec, Program

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

SOCKMAP = MapSpec("sockmap", uapi.MAP_TYPES["sockmap"], 4, 4, 4)
SOCKHASH = MapSpec("sockhash", uapi.MAP_TYPES["sockhash"], 4, 4, 4)

KEY = """r2 = 0
*(u32 *)(r10 -4) = r2
r2 = r10
r2 += -4
"""
SK = """r6 = *(u64 *)(r1 +168)
if r6 != 0x0 goto have_sk
r0 = 0
exit
have_sk:
"""
CASES = {
    "tc_update_sockmap": ("sched_cls", SK + KEY + "r1 = map[0]\nr3 = r6\nr4 = 0\ncall bpf_map_update_elem"),
    "tc_update_sockhash": ("sched_cls", SK + KEY + "r1 = map[1]\nr3 = r6\nr4 = 0\ncall bpf_map_update_elem"),
    "tc_update_stack_value": ("sched_cls", KEY + "r1 = map[0]\nr3 = r2\nr4 = 0\ncall bpf_map_update_elem"),
    "tc_update_null_sk": ("sched_cls", "r6 = *(u64 *)(r1 +168)\n" + KEY
                          + "r1 = map[0]\nr3 = r6\nr4 = 0\ncall bpf_map_update_elem"),
    "tc_delete": ("sched_cls", KEY + "r1 = map[0]\ncall bpf_map_delete_elem"),
    "tc_pop": ("sched_cls", KEY + "r1 = map[0]\ncall bpf_map_pop_elem"),
    "sock_ops_delete": ("sock_ops", KEY + "r1 = map[1]\ncall bpf_map_delete_elem"),
    "sock_ops_update": ("sock_ops", "r6 = *(u64 *)(r1 +184)\nif r6 == 0x0 goto out\n" + KEY
                        + "r1 = map[0]\nr3 = r6\nr4 = 0\ncall bpf_map_update_elem\nout:"),
    "sk_skb_delete": ("sk_skb", KEY + "r1 = map[0]\ncall bpf_map_delete_elem"),
    "socket_filter_delete": ("socket_filter", KEY + "r1 = map[0]\ncall bpf_map_delete_elem"),
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(CASES))
def test_sockmap_updates(name):
    pt, body = CASES[name]
    p = Program(id=f"t/sockmap_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES[pt],
                insns=encode(assemble(body + "\nr0 = 0\nexit\n")), maps=[SOCKMAP, SOCKHASH], license="GPL")
    same_as_kernel(p)
