"""The CPU adapter reads and writes the syscall registers and the PC as host memory
(`emulator.cpu.regfile`): what it sees must be exactly what libunicorn's own register
calls see, at a trap and after a slice, on both architectures."""

from __future__ import annotations

import ctypes
import os

import pytest

from emulator.cpu import CPU_CLASSES, hostmem, regfile
from emulator.cpu.base import GuestCpu
from kernel.mm import PROT_R, PROT_W, PROT_X

BASE = 0x400000
TRAP = {"x86_64": b"\xcd\x80", "aarch64": (0xD4000001).to_bytes(4, "little")}
ARCHES = ["x86_64", "aarch64"]


def _seen_by_binding(cpu: GuestCpu) -> tuple[int, tuple[int, ...]]:
    values = [cpu.uc.reg_read(reg) for reg in cpu.SYSCALL_REGS]
    return values[0], tuple(values[1:])


@pytest.mark.parametrize("arch", ARCHES)
def test_trap_sees_the_registers_the_binding_reads(arch: str) -> None:
    seen: list[tuple[int, tuple[int, ...], tuple[int, tuple[int, ...]], int, int]] = []

    def handler(cpu: GuestCpu, nr: int, args: tuple[int, ...]) -> int:
        seen.append((nr, args, _seen_by_binding(cpu), cpu.pc, cpu.uc.reg_read(cpu.PC_REG)))
        cpu.request_stop()
        return -38  # written back as two's complement

    cpu = CPU_CLASSES[arch](handler)
    cpu.map(BASE, 0x1000, PROT_R | PROT_W | PROT_X)
    cpu.write(BASE, TRAP[arch])
    values = [0x1111_0000_0000_0000 + 0x101 * i for i in range(len(cpu.SYSCALL_REGS))]
    for reg, value in zip(cpu.SYSCALL_REGS, values, strict=True):
        cpu.uc.reg_write(reg, value)
    cpu.pc = BASE
    cpu.run(budget=4)
    (nr, args, binding, pc, binding_pc) = seen[0]
    assert (nr, args) == binding == (values[0], tuple(values[1:]))
    assert pc == binding_pc == BASE + len(TRAP[arch])
    assert cpu.uc.reg_read(cpu.RET_REG) == (1 << 64) - 38
    assert cpu.pc == cpu.uc.reg_read(cpu.PC_REG)
    assert cpu.syscall_args() == _seen_by_binding(cpu)  # (the result is in one of them)


@pytest.mark.parametrize("arch", ARCHES)
def test_set_return_and_pc_match_the_binding(arch: str) -> None:
    cpu = CPU_CLASSES[arch](lambda *_: None)
    cpu.set_return(-1)
    assert cpu.uc.reg_read(cpu.RET_REG) == (1 << 64) - 1
    cpu.pc = 0x1234_5678
    assert cpu.pc == cpu.uc.reg_read(cpu.PC_REG) == 0x1234_5678
    cpu.uc.reg_write(cpu.PC_REG, 0x9ABC_DEF0)
    assert cpu.pc == 0x9ABC_DEF0


@pytest.mark.parametrize("arch", ARCHES)
def test_calibration_without_proc_self_mem(arch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where /proc/self/mem cannot be opened the probe reads through a pipe, and an
    unmapped address is a short read, never a crash."""
    real_open = os.open

    def no_proc(path: object, *args: object, **kw: object) -> int:
        if path == "/proc/self/mem":
            raise PermissionError(path)
        return real_open(path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(hostmem.os, "open", no_proc)
    cls = CPU_CLASSES[arch]
    layout = regfile.layout_for.__wrapped__(cls.UC_ARCH, cls.UC_MODE, cls.REG_BLOCK, cls.PC_REG)
    assert layout == regfile.layout_for(cls.UC_ARCH, cls.UC_MODE, cls.REG_BLOCK, cls.PC_REG)
    buf = ctypes.create_string_buffer(b"axiom", 5)
    assert hostmem.read_exact(ctypes.addressof(buf), 5) == b"axiom"
    assert hostmem.read_exact(8, 8) is None


def test_closed_cpu_drops_its_views() -> None:
    cpu = CPU_CLASSES["x86_64"](lambda *_: None)
    cpu.close()
    cpu.set_return(5)  # into a detached buffer, not freed engine memory
    assert cpu.pc == 0
