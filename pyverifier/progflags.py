"""``prog_flags``: which the kernel accepts, and what each changes in verification.

- Bits outside the known set: the load fails with EINVAL before the verifier
  runs (bpf_prog_load), so there is no log.
- ``BPF_F_STRICT_ALIGNMENT``: every access is alignment-checked (packet
  accesses as if the packet started 2 bytes off an aligned address, the
  NET_IP_ALIGN rule) unless ``BPF_F_ANY_ALIGNMENT`` is also set; without it only
  stack accesses and atomics are (x86-64 has efficient unaligned access).
- ``BPF_F_SLEEPABLE``: only some program types may be sleepable; the others are
  rejected after the control-flow checks. Sleepable programs of the types that
  may be are not modelled (helper sets and map rules differ).
- ``BPF_F_TEST_STATE_FREQ``: a checkpoint at every jump target and more often
  (pyverifier.prune reads it).
- ``BPF_F_TEST_RND_HI32``, ``BPF_F_XDP_HAS_FRAGS``, ``BPF_F_XDP_DEV_BOUND_ONLY``:
  nothing changes in verification or in the log.
- ``BPF_F_TEST_REG_INVARIANTS``: a bounds invariant violation (a kernel bug the
  kernel logs as ``REG INVARIANTS VIOLATION``, e.g. after ``if w1 s<= w1``)
  becomes a rejection (EFAULT) instead of a warning (pyverifier.condjmp).
"""
from __future__ import annotations

from . import uapi

EINVAL = 22
STRICT_ALIGNMENT = 1 << 0
ANY_ALIGNMENT = 1 << 1
TEST_RND_HI32 = 1 << 2
TEST_STATE_FREQ = 1 << 3
SLEEPABLE = 1 << 4
XDP_HAS_FRAGS = 1 << 5
XDP_DEV_BOUND_ONLY = 1 << 6
TEST_REG_INVARIANTS = 1 << 7
TOKEN_FD = 1 << 16
KNOWN = (STRICT_ALIGNMENT | ANY_ALIGNMENT | TEST_RND_HI32 | TEST_STATE_FREQ | SLEEPABLE | XDP_HAS_FRAGS |
         XDP_DEV_BOUND_ONLY | TEST_REG_INVARIANTS | TOKEN_FD)

_PT = uapi.PROG_TYPES
_MAY_SLEEP = frozenset(_PT[n] for n in ("tracing", "lsm", "kprobe", "struct_ops") if n in _PT)


def check_load(flags: int):
    """The bpf_prog_load flag checks: None, or the reason the load fails before the verifier runs."""
    if flags & ~KNOWN:
        return "prog_flags has unknown bits"
    if flags & TOKEN_FD:
        return "BPF_F_TOKEN_FD without a token"
    return None


def not_modelled(flags: int) -> str | None:
    """The flag combinations pyverifier cannot follow (none at present)."""
    return None


def strict_alignment(flags: int) -> bool:
    """env->strict_alignment on x86-64."""
    return bool(flags & STRICT_ALIGNMENT) and not flags & ANY_ALIGNMENT


def check_sleepable(v) -> None:
    """check_attach_btf_id's test of BPF_F_SLEEPABLE against the program type."""
    if not v.prog.prog_flags & SLEEPABLE:
        return
    if v.prog.prog_type in _MAY_SLEEP:
        from .verifier import NotModelled

        raise NotModelled("sleepable programs")
    v.err("Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable", EINVAL)
