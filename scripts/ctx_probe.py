"""The probe both measuring scripts load: a tracing program that reads one context argument.

``r2 = *(u64 *)(r1 + off); r0 = 0; exit`` attached to ``target`` with ``attach_type``, loaded at
log level 2: the log then shows the register type the kernel gives that argument (R2).
"""
from __future__ import annotations

from kernel_loader import load
from pyverifier import uapi
from pyverifier.insn import Insn, encode
from pyverifier.program import Program


def load_ctx_read(target: str, attach_type: str, arg: int, off: int):
    """Load the probe reading argument ``arg`` (at context offset ``off``) of ``target``; the loader's result."""
    ins = [Insn(0x79, 2, 1, off, 0), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0)]
    p = Program(id=f"m/{target}/{arg}", source="m", name=target, prog_type=uapi.PROG_TYPES["tracing"],
                insns=encode(ins), expected_attach_type=uapi.ATTACH_TYPES[attach_type], attach_to=target,
                license="GPL")
    return load(p, log_level=2)
