"""The trap hook goes to libunicorn directly (not through the binding's wrappers):
syscall registers in and out, and an exception in the handler still ends the slice
and propagates out of `run`, as the binding's own hooks behave."""

from __future__ import annotations

import pytest

from emulator.cpu import CPU_CLASSES
from emulator.cpu.base import GuestCpu, TrapHandler
from kernel.mm import PROT_R as PROT_READ
from kernel.mm import PROT_X as PROT_EXEC

CODE = {"x86_64": b"\xcd\x80" * 2, "aarch64": (0xD4000001).to_bytes(4, "little") * 2}
BASE = 0x400000


def _cpu(arch: str, handler: TrapHandler) -> GuestCpu:
    cpu = CPU_CLASSES[arch](handler)
    cpu.map(BASE, 0x1000, PROT_READ | PROT_EXEC)
    cpu.write(BASE, CODE[arch])
    cpu.pc = BASE
    return cpu


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_trap_sees_the_syscall_registers_and_sets_the_result(arch: str) -> None:
    seen = []

    def handler(cpu: GuestCpu, nr: int, args: tuple[int, ...]) -> int:
        seen.append((nr, args))
        return -2

    cpu = _cpu(arch, handler)
    nr_reg, *arg_regs = cpu.SYSCALL_REGS
    cpu.uc.reg_write(nr_reg, 39)
    for i, reg in enumerate(arg_regs):
        cpu.uc.reg_write(reg, 100 + i)
    cpu.run(budget=1)
    assert seen == [(39, (100, 101, 102, 103, 104, 105))]
    assert cpu.uc.reg_read(cpu.RET_REG) == (1 << 64) - 2
    assert cpu.pc == BASE + len(CODE[arch]) // 2


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_an_exception_in_the_handler_propagates_and_stops(arch: str) -> None:
    calls = []

    def handler(cpu: GuestCpu, nr: int, args: tuple[int, ...]) -> int:
        calls.append(nr)
        raise RuntimeError("model bug")

    cpu = _cpu(arch, handler)
    with pytest.raises(RuntimeError, match="model bug"):
        cpu.run(budget=2)
    assert calls == [calls[0]]  # stopped after the first trap
