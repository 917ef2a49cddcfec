"""Bus accesses carry their width, and each device honours it as its hardware does."""

from __future__ import annotations

import pytest

from emulator.boards.base import Bus, BusError
from emulator.chardev import MemoryBackend
from emulator.clock import VirtualClock
from emulator.devices.gicv2 import GICD_IPRIORITYR, GicV2
from emulator.devices.hpet import Hpet
from emulator.devices.lapic import LocalApic
from emulator.devices.pl011 import Pl011
from emulator.devices.uart16550 import Uart16550


def test_gic_byte_write_sets_one_priority() -> None:
    gic = GicV2()
    gic.priority[28:34] = [0xA0] * 6
    gic.distributor_write(GICD_IPRIORITYR + 30, 0, 1)  # the aarch64 boot code's write
    assert gic.priority[28:34] == [0xA0, 0xA0, 0x00, 0xA0, 0xA0, 0xA0]
    gic.distributor_write(GICD_IPRIORITYR + 32, 0x1122, 2)
    assert gic.priority[32:34] == [0x22, 0x11]
    assert gic.distributor_read(GICD_IPRIORITYR + 30, 1) == 0
    assert gic.distributor_read(GICD_IPRIORITYR + 31, 1) == 0xA0
    assert gic.distributor_read(GICD_IPRIORITYR + 28, 4) == 0xA000A0A0
    assert gic.distributor_read(0x800 + 30, 1) == 0x01  # ITARGETSR: CPU 0, byte access


def test_gic_word_only_registers_ignore_other_widths() -> None:
    gic = GicV2()
    gic.distributor_write(0x000, 1, 1)  # CTLR byte write: ignored
    assert not gic.dist_enabled
    gic.distributor_write(0x000, 1, 4)
    assert gic.dist_enabled and gic.distributor_read(0x000, 2) == 0
    gic.cpu_write(0x004, 0xFF, 1)  # GICC_PMR byte write: ignored
    assert gic.pmr == 0


def test_lapic_takes_aligned_32_bit_accesses_only() -> None:
    lapic = LocalApic(VirtualClock())
    lapic.write(0x080, 0x20, 1)  # TPR byte write: ignored
    assert lapic.read(0x080) == 0
    lapic.write(0x080, 0x20, 4)
    assert lapic.read(0x080) == 0x20 and lapic.read(0x080, 8) == 0


def test_16550_wide_port_access_touches_consecutive_ports() -> None:
    out = MemoryBackend()
    uart = Uart16550(out)
    uart.write(7, 0x5A, 1)  # SCR
    assert uart.read(7, 1) == 0x5A
    uart.write(0, ord("A"), 1)
    assert out.data == b"A"
    assert uart.read(4, 2) == uart.read(4, 1) | uart.read(5, 1) << 8  # MCR | LSR << 8


def test_pl011_narrow_reads_see_the_low_bytes() -> None:
    uart = Pl011(MemoryBackend())
    assert uart.read(0xFE0, 4) == uart.read(0xFE0, 1)  # peripheral id 0: one byte anyway
    uart.write(0x30, 0x0301, 4)  # CR
    assert uart.read(0x30, 1) == 0x01 and uart.read(0x30, 2) == 0x0301


def test_hpet_64_bit_registers_and_halves() -> None:
    clock = VirtualClock()
    hpet = Hpet(clock)
    hpet.write(0x010, 1, 4)
    clock.idle_until((5 << 32) + 7)
    assert hpet.read(0x0F0, 8) == (5 << 32) + 7
    assert (hpet.read(0x0F0, 4), hpet.read(0x0F4, 4)) == (7, 5)
    assert hpet.read(0x0F0, 1) == 0  # not a 32/64-bit access


def test_bus_passes_the_width_and_refuses_odd_ones() -> None:
    seen: list[tuple[int, int, int]] = []
    bus = Bus("test")
    bus.add("dev", 0x1000, 0x100, lambda off, size: size, lambda o, v, s: seen.append((o, v, s)))
    assert [bus.read(0x1000, n) for n in (1, 2, 4, 8)] == [1, 2, 4, 8]
    bus.write(0x1004, 0x1FF, 1)
    assert seen == [(4, 0xFF, 1)]  # the value is truncated to the access width
    with pytest.raises(BusError):
        bus.read(0x1000, 3)
