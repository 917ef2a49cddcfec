"""Differential tests: the compiled programs against the reference interpreter.

The product runs each program as one compiled function (`kernel.bpf.interp.compiler`);
the closure interpreter (`Vm(reference=True)`) is the oracle. For every program of
the verifier corpus, random programs and the callx cases, both must agree on the
outcome (r0, or the exact error with its pc), the instruction count, the caller's
memory, every map's contents and what helpers logged -- also when the instruction
budget runs out at every possible point of a run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.env import TaskInfo, TestHelperEnv
from kernel.bpf.runtime.maps import MapTable, RingBufMap, TimeseriesMap
from tests.bpf import test_vm_properties as props
from tests.bpf.test_verifier import ACCEPT, REJECT
from tests.bpf.verifier_cases import MAPS

SETTINGS = settings(
    max_examples=int(os.environ.get("BPF_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MAX_EXHAUSTION_POINTS = 40


def _vm(reference: bool) -> tuple[Vm, MapTable, TestHelperEnv]:
    maps = MapTable()
    for spec in MAPS.values():
        maps.create(spec.map_type, spec.key_size, spec.value_size, spec.max_entries)
    env = TestHelperEnv(task=TaskInfo(7, 7, 0, 0, b"diff"), tick_ns=3)
    return Vm(maps, env, reference=reference), maps, env


def _snapshot(maps: MapTable) -> list[list]:
    out: list[list] = []
    for map_id in range(len(MAPS)):
        m = maps.get(map_id)
        if isinstance(m, RingBufMap):
            out.append(m.peek_all())
        elif isinstance(m, TimeseriesMap):
            out.append(m.entries())
        else:
            items, key = [], None
            while True:
                try:
                    key = m.get_next_key(key)
                except Exception:
                    break
                value = m.lookup(key)
                items.append((key, None if value is None else bytes(value)))
            out.append(sorted(items))
    return out


def _outcome(reference: bool, program: Program, mode: str, budget: int) -> tuple:
    vm, maps, env = _vm(reference)
    memory = bytearray(range(64))
    try:
        if mode == "memory":
            result: object = vm.run_with_memory(program, memory, budget=budget)
        else:
            result = vm.run(program, bytes(range(56)), bytes(range(100, 164)), budget=budget)
        # a second run on the same Vm: reused run state must not leak between runs
        again: object = vm.run_with_memory(program, None, budget=budget)
    except BpfRuntimeError as e:
        result, again = ("error", e.pc, e.message), None
    return result, again, vm.last_steps, bytes(memory), _snapshot(maps), env.logs


def assert_same(program: Program, budgets: list[int] | None = None) -> None:
    for mode in ("memory", "hook"):
        ref = _outcome(True, program, mode, 10_000)
        got = _outcome(False, program, mode, 10_000)
        assert got == ref, program.compiled.source
        steps = ref[2]
        points = budgets if budgets is not None else range(min(steps, MAX_EXHAUSTION_POINTS) + 2)
        for budget in points:
            ref = _outcome(True, program, mode, budget)
            got = _outcome(False, program, mode, budget)
            assert got == ref, (budget, program.compiled.source)


@pytest.mark.parametrize("src", [c[1] for c in ACCEPT], ids=[c[0] for c in ACCEPT])
def test_verifier_accept_corpus(src: str) -> None:
    assert_same(Program(assemble(src)))


@pytest.mark.parametrize("src", [c[1] for c in REJECT], ids=[c[0] for c in REJECT])
def test_verifier_reject_corpus(src: str) -> None:
    # Rejected programs still run in the VM (it is total): same faults, same pcs.
    assert_same(Program(assemble(src)))


@SETTINGS
@given(st.lists(props._INSNS, min_size=1, max_size=40))
def test_random_programs(insns: list[Insn]) -> None:
    assert_same(Program(insns), budgets=[0, 1, 5, 17])


@SETTINGS
@given(st.lists(props._INSNS, min_size=1, max_size=30), st.integers(0, 10))
def test_random_programs_with_pointers(insns: list[Insn], reg: int) -> None:
    prologue = [Insn(op.ALU64 | op.MOV | op.X, r, 10, 0, 0) for r in range(1, 10)]
    prologue += [Insn(op.ALU64 | op.ADD | op.K, r, 0, 0, -8 * r) for r in range(1, 10)]
    tail = [Insn(op.ALU64 | op.MOV | op.X, 0, reg), Insn(op.EXIT_OP)]
    assert_same(Program(prologue + insns + tail), budgets=[3, 19, 25])


LOOPS_AND_CALLS = [
    # counted loop (inner while), nested local calls with stack use, recursion limit
    "mov r0, 0\nmov r1, 30\nl: add r0, r1\nsub r1, 1\njne r1, 0, l\nexit",
    "mov r6, 5\ncall f\nadd r0, r6\nexit\nf: stdw [r10-8], 9\nmov r6, 1\ncall g\n"
    "ldxdw r1, [r10-8]\nadd r0, r1\nexit\ng: mov r0, 100\nstdw [r10-8], 3\nexit",
    "call f\nexit\nf: call f\nexit",
    "mov r1, r10\nadd r1, -8\ncall f\nexit\nf: stdw [r1], 1\nldxdw r0, [r1]\nexit",
    "call f\nldxdw r0, [r0]\nexit\nf: mov r0, r10\nexit",  # dangling frame pointer
    "ja -1",
    "lddw r0, 0x1122334455667788\nexit",
]


@pytest.mark.parametrize("src", LOOPS_AND_CALLS)
def test_control_flow_cases(src: str) -> None:
    assert_same(Program(assemble(src)))


def test_jump_into_second_slot_of_ld_imm64() -> None:
    insns = assemble("ja +1\nlddw r0, 0x1122334455667788\nexit")
    assert_same(Program(insns))


CALLX = Insn(op.CALLX_OP, dst=2)


def test_callx_calls_the_helper_named_by_the_register() -> None:
    # The conformance suite's callx case: r2 = 5 (map_lookup_elem of a missing map).
    insns = [
        *assemble("mov r1, -1\nmov r2, 5"),
        CALLX,
        *assemble("mov r0, 2\nexit"),
    ]
    for reference in (True, False):
        vm, _, _ = _vm(reference)
        assert vm.run_with_memory(Program(insns)) == 2
    lookup = [*assemble("mov r1, 0\nstw [r10-4], 0\nmov r2, r10\nadd r2, -4\nmov r3, 5")]
    insns = [*lookup, Insn(op.CALLX_OP, dst=3), *assemble("exit")]
    assert_same(Program(insns))
    vm, _, _ = _vm(False)
    assert vm.run_with_memory(Program(insns)) == 0x1_0000_0000 << 8  # a map value pointer


def test_callx_unknown_helper_and_bad_encodings() -> None:
    for reference in (True, False):
        vm, _, _ = _vm(reference)
        insns = [*assemble("mov r2, 999"), CALLX, *assemble("exit")]
        with pytest.raises(BpfRuntimeError) as info:
            vm.run_with_memory(Program(insns))
        assert (info.value.pc, info.value.message) == (1, "unknown helper 999")
        for bad in (
            Insn(op.CALLX_OP, 2, 1),
            Insn(op.CALLX_OP, 2, 0, 1),
            Insn(op.CALLX_OP, 2, 0, 0, 5),
        ):
            with pytest.raises(BpfRuntimeError) as info:
                vm.run_with_memory(Program([bad, *assemble("exit")]))
            assert info.value.message.startswith("invalid instruction op=0x8d")


def test_verifier_refuses_callx_as_linux_does() -> None:
    from kernel.bpf.errors import VerifierError
    from kernel.bpf.verifier import verify

    with pytest.raises(VerifierError) as info:
        verify([*assemble("mov r2, 5"), CALLX, *assemble("mov r0, 0\nexit")], MAPS)
    assert (info.value.insn_idx, info.value.reason) == (1, "unknown opcode 8d")
