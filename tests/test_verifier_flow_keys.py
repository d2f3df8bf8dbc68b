"""A flow dissector's ``struct bpf_flow_keys`` (the ``flow_keys`` field of its context): reads and
writes inside the 56 bytes, constant pointer offsets only. Every program is compared with the kernel."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyverifier import uapi
from pyverifier.asm import assemble
from pyverifier.ctx import _SKB
from pyverifier.insn import encode
from pyverifier.program import Program

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

KEYS = f"r6 = *(u64 *)(r1 +{_SKB['flow_keys']})\n"
CASES = {
    "read_nhoff": KEYS + "r2 = *(u16 *)(r6 +0)",
    "write_thoff": KEYS + "r2 = 14\n*(u16 *)(r6 +2) = r2",
    "read_last": KEYS + "r2 = *(u32 *)(r6 +52)",
    "read_past_end": KEYS + "r2 = *(u32 *)(r6 +56)",
    "negative": KEYS + "r2 = *(u8 *)(r6 -1)",
    "constant_offset": KEYS + "r6 += 8\nr2 = *(u32 *)(r6 +44)",
    "constant_offset_past_end": KEYS + "r6 += 8\nr2 = *(u64 *)(r6 +44)",
    "variable_offset": KEYS + "r2 = *(u16 *)(r6 +0)\nr2 &= 7\nr6 += r2\nr3 = *(u8 *)(r6 +0)",
    "narrow_ctx_load": f"r6 = *(u32 *)(r1 +{_SKB['flow_keys']})",
    "misaligned": KEYS + "r2 = *(u32 *)(r6 +2)",
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(CASES))
def test_flow_keys(name):
    p = Program(id=f"t/flow_keys_{name}", source="t", name=name, prog_type=uapi.PROG_TYPES["flow_dissector"],
                insns=encode(assemble(CASES[name] + "\nr0 = 0\nexit\n")), license="GPL")
    same_as_kernel(p)
