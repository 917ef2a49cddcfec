"""The pc and virt memory maps, bus decoding and the board IRQ line.

Building a board imports the CPU adapters (and so Unicorn), but no CPU is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.boards import BOARDS, BusError, PcBoard, VirtBoard
from emulator.boards.base import Board
from emulator.chardev import MemoryBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice

from .helpers import guard_timer, step


@pytest.fixture
def parts(tmp_path: Path) -> tuple[VirtualClock, MemoryBackend, BlockDevice]:
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(4096))
    return VirtualClock(), MemoryBackend(), BlockDevice(image)


@pytest.fixture
def pc(parts) -> PcBoard:
    return PcBoard(*parts)


@pytest.fixture
def virt(parts) -> VirtBoard:
    board = VirtBoard(*parts)
    guard_timer(board.timer)
    return board


def _sent(board: Board) -> bytes:
    """What the board's console device sent to the fixture's MemoryBackend."""
    backend = board.console_backend
    assert isinstance(backend, MemoryBackend)
    return backend.data


def test_board_table() -> None:
    assert BOARDS == {"x86_64": PcBoard, "aarch64": VirtBoard}
    assert (PcBoard.name, PcBoard.arch) == ("pc", "x86_64")
    assert (VirtBoard.name, VirtBoard.arch) == ("virt", "aarch64")


def test_pc_com1_on_the_io_bus(pc: PcBoard) -> None:
    pc.io.write(0x3F8, ord("A"))
    pc.io.write(0x3F8, ord("\n"))
    assert _sent(pc) == b"A\n"
    assert pc.io.read(0x3FD) == 0x60  # LSR
    pc.io.write(0x3FF, 0x5A)
    assert pc.io.read(0x3FF) == 0x5A  # SCR
    assert pc.uart.scr == 0x5A
    with pytest.raises(BusError):
        pc.io.read(0x400)
    with pytest.raises(BusError):
        pc.io.read(0x3F7)
    with pytest.raises(BusError):
        pc.mmio.read(0x3F8)  # COM1 is port-mapped only


def test_pc_mmio_map(pc: PcBoard) -> None:
    assert pc.mmio.read(0xFEE0_0030) == 0x0005_0014  # LAPIC version
    assert pc.mmio.read(0xFEE0_0020) == 0  # LAPIC id of CPU 0
    assert pc.mmio.read(0xFED0_0000, 8) == 0x000F_4240_8086_A201  # HPET GCAP_ID, 64-bit
    assert pc.mmio.read(0xFED0_0000) == 0x8086_A201  # a 32-bit read: the low half
    assert pc.mmio.read(0xFED0_0004) == 0x000F_4240  # ... and the high half
    assert pc.mmio.read(0xFEB0_0000) == 0x11A0_0001  # IIO id
    for address in (0xFEE0_1000, 0xFEDF_FFFF, 0xFED0_0400, 0xFEB0_0100, 0x0, 0x0900_0000):
        with pytest.raises(BusError, match=f"0x{address:x}"):
            pc.mmio.read(address)
    with pytest.raises(BusError):
        pc.mmio.write(0xFEE0_1000, 0)
    with pytest.raises(BusError):
        pc.io.write(0x60, 0)


def test_pc_hpet_through_the_bus(pc: PcBoard) -> None:
    pc.clock.idle_until(777)
    assert pc.mmio.read(0xFED0_00F0) == 0
    pc.mmio.write(0xFED0_0010, 1)
    assert pc.mmio.read(0xFED0_00F0) == 777


def test_pc_irq_pending_follows_the_lapic(pc: PcBoard) -> None:
    lapic = 0xFEE0_0000
    pc.mmio.write(lapic + 0x0F0, 0x1FF)
    pc.mmio.write(lapic + 0x3E0, 0b0011)
    pc.mmio.write(lapic + 0x320, (1 << 17) | 0x20)
    pc.mmio.write(lapic + 0x380, 312_500)
    assert not pc.irq_pending()
    assert step(pc.clock) == 5_000_000
    assert pc.irq_pending()
    assert pc.mmio.read(lapic + 0x210) == 1
    assert pc.lapic.acknowledge() == 0x20
    assert not pc.irq_pending()
    pc.mmio.write(lapic + 0x0B0, 0)
    assert pc.mmio.read(lapic + 0x110) == 0
    assert step(pc.clock) == 10_000_000
    assert pc.irq_pending()


def test_virt_mmio_map(virt: VirtBoard) -> None:
    virt.mmio.write(0x0900_0000, ord("Z"))
    assert _sent(virt) == b"Z"
    assert virt.mmio.read(0x0900_0018) == 0x90  # PL011 FR
    assert virt.mmio.read(0x0900_0FE0) == 0x11
    assert virt.mmio.read(0x0900_0FFC) == 0xB1
    assert virt.mmio.read(0x0800_0004) == 2  # GICD_TYPER
    assert virt.mmio.read(0x0801_000C) == 1023  # GICC_IAR, nothing pending
    assert virt.gic.spurious == 1
    assert virt.mmio.read(0x090C_0000) == 0x11A0_0001  # IIO id
    for address in (0x0800_1000, 0x0801_2000, 0x0900_1000, 0x090C_0100, 0x0, 0xFEE0_0000):
        with pytest.raises(BusError, match=f"0x{address:x}"):
            virt.mmio.read(address)
    with pytest.raises(BusError):
        virt.io.read(0x3F8)  # no port I/O on this board


def test_virt_sysregs_reach_the_generic_timer(virt: VirtBoard) -> None:
    virt.clock.idle_until(4242)
    assert virt.sysreg_read("CNTFRQ_EL0") == 1_000_000_000
    assert virt.sysreg_read("CNTPCT_EL0") == 4242
    virt.sysreg_write("CNTP_CVAL_EL0", 9999)
    assert virt.timer.cval == 9999


def test_virt_irq_pending_follows_the_gic(virt: VirtBoard) -> None:
    gicd, gicc = 0x0800_0000, 0x0801_0000
    virt.mmio.write(gicd, 1)
    virt.mmio.write(gicd + 0x400 + 30, 0)
    virt.mmio.write(gicd + 0x100, 1 << 30)
    virt.mmio.write(gicc + 0x004, 0xFF)
    virt.sysreg_write("CNTP_CVAL_EL0", virt.sysreg_read("CNTPCT_EL0") + 10_000_000)
    virt.sysreg_write("CNTP_CTL_EL0", 1)
    assert step(virt.clock) == 10_000_000
    assert not virt.irq_pending()  # CPU interface still off
    virt.mmio.write(gicc, 1)
    assert virt.irq_pending()
    assert virt.mmio.read(gicc + 0x00C) & 0x3FF == 30
    assert not virt.irq_pending()  # active
    virt.sysreg_write("CNTP_CVAL_EL0", virt.sysreg_read("CNTPCT_EL0") + 10_000_000)
    virt.mmio.write(gicc + 0x010, 30)
    assert not virt.irq_pending()
    assert step(virt.clock) == 20_000_000
    assert virt.irq_pending()
