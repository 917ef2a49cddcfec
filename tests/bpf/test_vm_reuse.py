"""Cheap invocations: the VM reuses its run state, context and payload views between
runs, and skips all memory setup for programs that cannot observe memory. None of
that may ever be visible to a program."""

from __future__ import annotations

import struct

import pytest

from kernel.abi import AttachType, MapType
from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm, make_context
from kernel.bpf.isa.asm import assemble, assemble_bytes
from kernel.bpf.runtime.env import NullHelperEnv
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf_attach.registry import BpfSubsystem

READ_DATA = "ldxdw r2, [r1+0]\nldxdw r0, [r2+0]\nexit"


def test_a_reused_payload_buffer_is_read_fresh_every_run() -> None:
    vm, program = Vm(), Program(assemble(READ_DATA))
    buf = bytearray(8)
    for value in (1, 0xDEAD, 7):
        struct.pack_into("<Q", buf, 0, value)
        assert vm.run(program, None, buf) == value
    assert vm.run(program, None, b"\x05" + bytes(7)) == 5  # a new object: a new view


def test_payload_length_change_updates_data_end() -> None:
    vm = Vm()
    program = Program(assemble("ldxdw r2, [r1+0]\nldxdw r3, [r1+8]\nmov r0, r3\nsub r0, r2\nexit"))
    assert vm.run(program, None, bytes(16)) == 16
    assert vm.run(program, None, bytes(3)) == 3
    assert vm.run(program, None, None) == 0
    with pytest.raises(BpfRuntimeError, match="invalid read of 8 bytes"):
        vm.run(Program(assemble(READ_DATA)), None, None)  # no stale payload mapped


def test_context_fields_do_not_leak_between_runs() -> None:
    vm, program = Vm(), Program(assemble("ldxdw r0, [r1+24]\nexit"))
    assert vm.run(program, make_context(interrupt_latency_ns=42)) == 42
    assert vm.run(program, None) == 0
    assert vm.run(program, make_context(interrupt_latency_ns=9), b"x") == 9


def test_stack_is_zero_at_every_run_and_map_values_are_unmapped() -> None:
    maps = MapTable()
    array = maps.create(MapType.ARRAY, 4, 8, 1)
    vm = Vm(maps, NullHelperEnv())
    leak = Program(assemble("ldxdw r0, [r10-8]\nstdw [r10-8], 77\nexit"))
    assert [vm.run(leak) for _ in range(3)] == [0, 0, 0]
    grab = Program(
        assemble(
            f"stw [r10-4], 0\nmov r1, {array.id}\nmov r2, r10\nadd r2, -4\n"
            "call map_lookup_elem\nexit"
        )
    )
    addr = vm.run(grab)
    assert addr == vm.run(grab)  # same slot numbering every run
    stale = Program([*assemble(f"lddw r1, {addr}"), *assemble("ldxdw r0, [r1+0]\nexit")])
    with pytest.raises(BpfRuntimeError, match="unmapped address"):
        vm.run(stale)


def test_pure_programs_run_without_setup_and_keep_exact_budgets() -> None:
    vm, ref = Vm(), Vm(reference=True)
    loop = Program(assemble("mov r0, 0\nmov r1, 10\nl: add r0, r1\nsub r1, 1\njne r1, 0, l\nexit"))
    assert loop.pure and not Program(assemble(READ_DATA)).pure
    assert vm.run(loop, make_context(), b"payload") == ref.run(loop, make_context(), b"p") == 55
    assert vm.last_steps == ref.last_steps == 33
    for v in (vm, ref):
        with pytest.raises(BpfRuntimeError) as info:
            v.run(loop, None, None, budget=20)
        assert (info.value.pc, info.value.message) == (2, "instruction budget of 20 exhausted")
        assert v.last_steps == 20
    with pytest.raises(ValueError, match="56 bytes"):
        vm.run(loop, b"short")


def test_hook_fills_the_payload_only_for_programs_that_read_memory() -> None:
    logged: list[tuple[str, str, str]] = []
    bpf = BpfSubsystem(NullHelperEnv(), lambda *a: logged.append(a))
    trace = "ldxdw r2, [r1+0]\nldxdw r3, [r1+8]\nmov r4, r2\nadd r4, 8\nmov r0, 0\n"
    trace += "jgt r4, r3, out\nldxdw r0, [r2+0]\nout:\nexit"
    pure = bpf.load(assemble_bytes("mov r0, 0\nexit"), "pure", AttachType.SYS_ENTER)
    reader = bpf.load(assemble_bytes(trace), "reader", AttachType.SYS_ENTER)
    bpf.attach(AttachType.SYS_ENTER, pure.id)
    assert bpf.reads_memory[AttachType.SYS_ENTER] is False
    bpf.attach(AttachType.SYS_ENTER, reader.id)
    assert bpf.reads_memory[AttachType.SYS_ENTER] is True
    bpf.detach(AttachType.SYS_ENTER, reader.id)
    assert bpf.reads_memory[AttachType.SYS_ENTER] is False
