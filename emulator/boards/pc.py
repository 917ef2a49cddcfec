"""The `pc` board (x86_64): 16550 COM1, local APIC, HPET, IIO sensor, disk.

The memory map (`PC_MAP`) is the one source of these addresses: the buses are built
from it and the kernel reads it (`run-virt --arch x86_64 --machine-info` prints it).
"""

from __future__ import annotations

from emulator.boards.base import Board, Window
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.hpet import Hpet
from emulator.devices.iio_accel import IioAccelerometer
from emulator.devices.lapic import LocalApic
from emulator.devices.uart16550 import Uart16550
from kernel.board import BoardDescription, MemMapEntry

PC_MAP = BoardDescription(
    "pc",
    "x86_64",
    "x86_64",
    (
        MemMapEntry("com1", "16550a", "io", 0x3F8, Uart16550.SIZE),
        MemMapEntry("lapic", "lapic", "mmio", 0xFEE0_0000, LocalApic.SIZE),
        MemMapEntry("hpet", "hpet", "mmio", 0xFED0_0000, Hpet.SIZE),
        MemMapEntry("iio", "iio-accel", "mmio", 0xFEB0_0000, IioAccelerometer.SIZE),
    ),
)
IIO_PERIOD_NS = 500_000_000  # 100 ticks of the 200 Hz LAPIC timer
APIC_BUS_HZ = 1_000_000_000


class PcBoard(Board):
    """Single-CPU PC."""

    description = PC_MAP

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        super().__init__(clock, console, block)
        self.uart = Uart16550(console)
        self.lapic = LocalApic(clock, APIC_BUS_HZ, irq_out=self.cpu_irq.set)
        self.hpet = Hpet(clock)
        self.iio = IioAccelerometer(clock, IIO_PERIOD_NS)
        self.map_devices(
            {
                "com1": Window(self.uart.read, self.uart.write, self.uart.write_block),
                "lapic": Window(self.lapic.read, self.lapic.write),
                "hpet": Window(self.hpet.read, self.hpet.write),
                "iio": Window(self.iio.read, self.iio.write),
            }
        )

    def acknowledge_irq(self) -> int | None:
        return self.lapic.acknowledge()
