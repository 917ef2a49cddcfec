"""Console fast path: drivers hand whole buffers to the UART model through the bus.

The bytes on the backend and the device's byte count must be exactly what one
data-register write per byte produces; a device without a block write still works
(the bus repeats its single write).
"""

from __future__ import annotations

import pytest

from emulator.boards.base import Bus
from emulator.boards.pc import PC_MAP
from emulator.boards.virt import VIRT_MAP
from emulator.chardev import CharBackend, MemoryBackend
from emulator.devices.pl011 import Pl011
from emulator.devices.uart16550 import Uart16550
from kernel.drivers.console import Pl011Console, Uart16550Console

COM1, PL011_BASE = PC_MAP["com1"].address, VIRT_MAP["pl011"].address

LINE = b"[INFO] kernel::test: \x1b[32mgreen\x1b[0m and a tab\t, then the end\n"


class CountingBackend(CharBackend):
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


def _uart_bus(block: bool) -> tuple[Bus, Uart16550, CountingBackend]:
    backend = CountingBackend()
    uart = Uart16550(backend)
    bus = Bus("io", default_size=1)
    bus.add("com1", COM1, uart.SIZE, uart.read, uart.write, uart.write_block if block else None)
    return bus, uart, backend


def _pl011_bus(block: bool) -> tuple[Bus, Pl011, CountingBackend]:
    backend = CountingBackend()
    uart = Pl011(backend)
    bus = Bus("mmio")
    bus.add(
        "pl011", PL011_BASE, uart.SIZE, uart.read, uart.write, uart.write_block if block else None
    )
    return bus, uart, backend


@pytest.mark.parametrize("block", [True, False])
def test_16550_console_line_is_byte_exact_and_counted(block: bool) -> None:
    bus, uart, backend = _uart_bus(block)
    console = Uart16550Console(bus, COM1)
    console.write(LINE)
    console.write(b"")
    assert b"".join(backend.writes) == LINE
    assert uart.bytes_sent == len(LINE)
    assert len(backend.writes) == (1 if block else len(LINE))  # one backend write per line


@pytest.mark.parametrize("block", [True, False])
def test_pl011_console_translates_newlines_and_counts_every_byte(block: bool) -> None:
    bus, uart, backend = _pl011_bus(block)
    console = Pl011Console(bus, PL011_BASE)
    console.write(b"a\nb\n\n")
    console.put(ord("Z"))
    assert b"".join(backend.writes) == b"a\r\nb\r\n\r\nZ"
    assert uart.bytes_sent == 9
    assert len(backend.writes) == (2 if block else 9)


def test_block_write_to_other_registers_acts_like_single_writes() -> None:
    uart = Uart16550(MemoryBackend())
    uart.write_block(3, b"\x80\x83", 1)  # LCR twice: the last value stays
    assert uart.lcr == 0x83
    uart.write_block(0, b"\x05", 1)  # DLAB set: THR is the divisor latch, nothing sent
    assert uart.divisor & 0xFF == 5 and uart.bytes_sent == 0
    pl = Pl011(MemoryBackend())
    pl.write_block(0x024, b"\x01\x02", 4)  # IBRD
    assert pl.ibrd == 2 and pl.bytes_sent == 0


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_machine_console_line_reaches_the_backend_once(arch: str) -> None:
    from emulator.config import MachineConfig
    from emulator.machine import Machine

    backend = MemoryBackend()
    machine = Machine(MachineConfig(arch=arch, cmdline="init=/bin/t_hello"), backend)
    machine.boot()
    # every board has a `uart`; the Board base class does not declare its devices
    before, sent = len(backend), machine.board.uart.bytes_sent  # type: ignore[attr-defined]
    machine.kernel.platform.console_write(b"hello, console\n")
    expected = b"hello, console\n" if arch == "x86_64" else b"hello, console\r\n"
    assert backend.data_from(before) == expected
    assert machine.board.uart.bytes_sent - sent == len(expected)  # type: ignore[attr-defined]
