"""kfunc calls (pyverifier.kfuncs, kbtf): the RCU read-side section and preemption kfuncs.

A kfunc call carries a BTF id of the running kernel; pyverifier learns the function's
name and parameter count from the kernel's BTF, which its caller provides
(``kbtf.set_provider``). Each program is compared in full with the live kernel.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import pyverifier.kbtf as kbtf
from pyverifier.insn import Insn as I
from pyverifier.insn import encode
from pyverifier.program import Program
from pyverifier.verifier import verify

sys.path.insert(0, str(Path(__file__).parent))
from kernel_compare import same_as_kernel  # noqa: E402

VMLINUX = Path("/sys/kernel/btf/vmlinux")
needs_btf = pytest.mark.skipif(not VMLINUX.exists(), reason="no /sys/kernel/btf/vmlinux: the kernel has no BTF")
R0, EXIT = I(0xB7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)

PROGRAMS = {
    "rcu_pair": ["lock", "unlock", R0, EXIT],
    "rcu_nested": ["lock", "lock", "unlock", "unlock", R0, EXIT],
    "rcu_unmatched": ["unlock", R0, EXIT],
    "rcu_exit_inside": ["lock", R0, EXIT],
    "preempt_pair": ["disable", "enable", R0, EXIT],
    "preempt_nested": ["disable", "disable", "enable", "enable", R0, EXIT],
    "preempt_unmatched": ["enable", R0, EXIT],
    "preempt_exit_inside": ["disable", R0, EXIT],
    "both_exit_inside": ["disable", "lock", R0, EXIT],
    "rcu_helper_inside": ["lock", I(0x85, 0, 0, 0, 7), "unlock", R0, EXIT],
    "rcu_cond_pair": [I(0x61, 6, 1, 0, 0), I(0x15, 6, 0, 1, 0), "lock", I(0xB7, 7, 0, 0, 1), I(0x15, 6, 0, 1, 0),
                      "unlock", R0, EXIT],
    "rcu_subprog": ["lock", I(0x85, 0, 1, 0, 3), "unlock", R0, EXIT, I(0xB7, 0, 0, 0, 1), EXIT],
    "rcu_lock_in_subprog": [I(0x85, 0, 1, 0, 3), "unlock", R0, EXIT, "lock", R0, EXIT],
    "preempt_loop": ["disable", I(0xB7, 1, 0, 0, 0), I(0x07, 1, 0, 0, 1), I(0xA5, 1, 0, -2, 5), "enable", R0, EXIT],
}
NAMES = {"lock": "bpf_rcu_read_lock", "unlock": "bpf_rcu_read_unlock", "disable": "bpf_preempt_disable",
         "enable": "bpf_preempt_enable"}


@pytest.fixture
def kernel_btf_given():
    from selftests.btf import kernel_btf

    kbtf.set_provider(kernel_btf)
    yield kernel_btf()
    kbtf.set_provider(None)


def _prog(name, kb):
    from pyverifier.btf import FUNC

    insns = [I(0x85, 0, 2, 0, kb.find(NAMES[x], FUNC)[0]) if isinstance(x, str) else x for x in PROGRAMS[name]]
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1, insns=encode(insns))


@needs_btf
def test_kfunc_rules_without_a_kernel(kernel_btf_given):
    assert verify(_prog("rcu_pair", kernel_btf_given), 2).verdict == "accept"
    r = verify(_prog("rcu_nested", kernel_btf_given), 2)
    assert r.message == "nested rcu read lock (kernel function bpf_rcu_read_lock)"
    r = verify(_prog("both_exit_inside", kernel_btf_given), 2)
    assert r.message == "BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region"
    assert "call bpf_preempt_disable#" in verify(_prog("preempt_pair", kernel_btf_given), 2).log


@needs_btf
def test_kfuncs_need_the_kernels_btf(kernel_btf_given):
    p = _prog("rcu_pair", kernel_btf_given)
    kbtf.set_provider(None)
    r = verify(p, 2)
    assert (r.verdict, r.message) == ("error", "not modelled: kfunc calls (the kernel's BTF was not given to pyverifier)")


@needs_btf
def test_other_kfuncs_are_not_modelled(kernel_btf_given):
    from pyverifier.btf import FUNC

    bid = kernel_btf_given.find("bpf_dynptr_from_mem", FUNC)[0]
    p = Program(id="t/dynptr", source="t", name="dynptr", prog_type=1, insns=encode([I(0x85, 0, 2, 0, bid), R0, EXIT]))
    assert verify(p, 2).message == "not modelled: kfunc bpf_dynptr_from_mem"


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_kernel(name, kernel_btf_given):
    same_as_kernel(_prog(name, kernel_btf_given))


# open-coded iterators (pyverifier.iters): the loop converges at bpf_iter_num_next
ITER_LOOP = """r1 = r10
r1 += -8
r2 = 0
r3 = {end}
call bpf_iter_num_new
r6 = 0
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0x0 goto done
{body}
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit
"""
ITER_PROGRAMS = {
    "count": ITER_LOOP.format(end=3, body="r6 += 1"),
    "read_element": ITER_LOOP.format(end=10, body="r7 = *(u32 *)(r0 +0)\nr6 += r7"),
    "leak": "r1 = r10\nr1 += -8\nr2 = 0\nr3 = 3\ncall bpf_iter_num_new\nr0 = 0\nexit\n",
    "next_uninitialized": "r1 = r10\nr1 += -8\ncall bpf_iter_num_next\nr0 = 0\nexit\n",
    "new_twice": "r1 = r10\nr1 += -8\nr2 = 0\nr3 = 3\ncall bpf_iter_num_new\n"
                 "r1 = r10\nr1 += -8\nr2 = 0\nr3 = 3\ncall bpf_iter_num_new\nr0 = 0\nexit\n",
    # the element pointer is read-only memory of 4 bytes
    "read_past_element": ITER_LOOP.format(end=4, body="r7 = *(u32 *)(r0 +4)"),
}


def _iter_prog(name, kb):
    from pyverifier.asm import assemble
    from pyverifier.btf import FUNC

    kf = {n: kb.find(n, FUNC)[0] for n in ("bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy")}
    return Program(id=f"t/{name}", source="t", name=name, prog_type=1,
                   insns=encode(assemble(ITER_PROGRAMS[name], kfuncs=kf)))


@needs_btf
def test_iterator_rules_without_a_kernel(kernel_btf_given):
    r = verify(_iter_prog("count", kernel_btf_given), 2)
    assert r.verdict == "accept"
    assert "fp-8=iter_num(ref_id=1,state=drained,depth=0)" in r.log and "SCC backedge (1)" in r.log
    r = verify(_iter_prog("next_uninitialized", kernel_btf_given), 2)
    assert r.message == "expected an initialized iter_num as arg #0"
    r = verify(_iter_prog("leak", kernel_btf_given), 2)
    assert r.message == "BPF_EXIT instruction in main prog would lead to reference leak"


@pytest.mark.bpf
@needs_btf
@pytest.mark.parametrize("name", sorted(ITER_PROGRAMS))
def test_iterators_against_kernel(name, kernel_btf_given):
    same_as_kernel(_iter_prog(name, kernel_btf_given))


# a kfunc call of BTF id 0 (a weak kfunc libbpf left unresolved): fine unless a path reaches it
KFUNC_ZERO = {
    "reached": "call #0\nr0 = 1\nexit\n",
    "unreachable": "r0 = 1\nif r0 > 0x0 goto out\ncall #0\nout:\nr0 = 1\nexit\n",
    "reached_on_one_path": "r2 = *(u32 *)(r1 +0)\nif r2 > 0x3 goto out\ncall #0\nout:\nr0 = 1\nexit\n",
}


@pytest.mark.bpf
@pytest.mark.parametrize("name", sorted(KFUNC_ZERO))
def test_kfunc_call_of_btf_id_zero(name):
    from pyverifier.asm import assemble

    p = Program(id=f"t/kf0_{name}", source="t", name=name, prog_type=1,
                insns=encode(assemble(KFUNC_ZERO[name])))
    same_as_kernel(p)
