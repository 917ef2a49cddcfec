"""Kernel writes into guest RAM: into memory that never was executable they are plain
host stores (no translated code can exist there); once a range becomes executable,
code written there earlier runs as written, never a stale translation."""

from __future__ import annotations

import pytest

from emulator.cpu import CPU_CLASSES
from emulator.cpu.base import GuestCpu
from kernel.mm import PROT_R, PROT_W, PROT_X

BASE = 0x400000
PAGE = 0x1000
TRAP = {"x86_64": b"\xcd\x80", "aarch64": (0xD4000001).to_bytes(4, "little")}
NOP = {"x86_64": b"\x90", "aarch64": (0xD503201F).to_bytes(4, "little")}


def _cpu(arch: str, traps: list[int]) -> GuestCpu:
    def handler(cpu: GuestCpu, nr: int, args: tuple[int, ...]) -> None:
        traps.append(cpu.pc)
        cpu.request_stop()

    return CPU_CLASSES[arch](handler)


def _run_from(cpu: GuestCpu, pc: int) -> None:
    cpu.pc = pc
    cpu.run(budget=8)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_code_written_before_mprotect_exec_runs_as_written(arch: str) -> None:
    traps: list[int] = []
    cpu = _cpu(arch, traps)
    cpu.map(BASE, PAGE, PROT_R | PROT_X)
    cpu.write(BASE, TRAP[arch])
    _run_from(cpu, BASE)  # translated once, from the first mapping
    cpu.unmap(BASE, PAGE)
    cpu.map(BASE, PAGE, PROT_R | PROT_W)  # never executable: a direct store
    cpu.write(BASE, NOP[arch] + TRAP[arch])
    cpu.protect(BASE, PAGE, PROT_R | PROT_X)
    _run_from(cpu, BASE)
    after_trap = len(TRAP[arch])
    assert traps == [BASE + after_trap, BASE + len(NOP[arch]) + after_trap]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_data_writes_read_back_inside_and_across_mappings(arch: str) -> None:
    cpu = _cpu(arch, [])
    cpu.map(BASE, PAGE, PROT_R | PROT_W)
    cpu.map(BASE + PAGE, PAGE, PROT_R | PROT_W)
    cpu.write(BASE + 10, b"inside")
    cpu.write(BASE + PAGE - 3, b"across")
    assert cpu.read(BASE + 10, 6) == b"inside"
    assert cpu.read(BASE + PAGE - 3, 6) == b"across"
    assert cpu.uc.mem_read(BASE + 10, 6) == b"inside"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_copies_follow_the_mappings_after_unmap_and_remap(arch: str) -> None:
    """The adapter remembers the mapping its last copy hit: unmapping, remapping or
    making it executable must never leave a copy going to the old host buffer."""
    from unicorn import UcError

    cpu = _cpu(arch, [])
    cpu.map(BASE, PAGE, PROT_R | PROT_W)
    cpu.write(BASE + 8, b"old")
    assert cpu.read(BASE + 8, 3) == b"old"
    cpu.unmap(BASE, PAGE)
    with pytest.raises(UcError):
        cpu.read(BASE + 8, 3)
    cpu.map(BASE, PAGE, PROT_R | PROT_W)
    assert cpu.read(BASE + 8, 3) == b"\0\0\0"  # a new, zeroed buffer
    cpu.write(BASE + 8, b"new")
    cpu.protect(BASE, PAGE, PROT_R | PROT_X)
    cpu.write(BASE, TRAP[arch])  # now through libunicorn (code may be translated)
    assert cpu.uc.mem_read(BASE, len(TRAP[arch])) == TRAP[arch]
    assert cpu.read(BASE + 8, 3) == b"new"


def _returns(arch: str, n: int) -> bytes:
    """`nr = n; trap`: the trap handler sees `n` as the syscall number."""
    if arch == "x86_64":
        return b"\xb8" + n.to_bytes(4, "little") + TRAP[arch]
    return (0xD2800008 | n << 5).to_bytes(4, "little") + TRAP[arch]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_code_rewritten_after_it_ran_runs_as_rewritten(arch: str) -> None:
    """Writes into executable memory whose code has been translated (between slices,
    and from a trap handler in the middle of one) drop that translation."""
    seen: list[int] = []

    def rewrite_then_stop(cpu: GuestCpu, nr: int, args: tuple[int, ...]) -> None:
        seen.append(nr)
        if len(seen) == 1:  # the kernel writes over the code that just ran, resumes it
            cpu.write(BASE, _returns(arch, 7))
            cpu.pc = BASE
        else:
            cpu.request_stop()

    cpu = CPU_CLASSES[arch](rewrite_then_stop)
    cpu.map(BASE, PAGE, PROT_R | PROT_W | PROT_X)
    cpu.write(BASE, _returns(arch, 5))
    _run_from(cpu, BASE)
    assert seen == [5, 7]
    seen.clear()
    cpu.write(BASE, _returns(arch, 9))  # between slices
    _run_from(cpu, BASE)
    assert seen == [9, 7]
