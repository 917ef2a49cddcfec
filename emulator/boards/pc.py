"""The `pc` board (x86_64): 16550 COM1 at port 0x3F8, local APIC, HPET, IIO sensor, disk."""

from __future__ import annotations

from emulator.boards.base import Board
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.hpet import Hpet
from emulator.devices.iio_accel import IioAccelerometer
from emulator.devices.lapic import LocalApic
from emulator.devices.uart16550 import Uart16550

COM1_PORT = 0x3F8
LAPIC_BASE = 0xFEE0_0000
HPET_BASE = 0xFED0_0000
IIO_BASE = 0xFEB0_0000
IIO_PERIOD_NS = 500_000_000  # 100 ticks of the 200 Hz LAPIC timer
APIC_BUS_HZ = 1_000_000_000


class PcBoard(Board):
    """Single-CPU PC."""

    name = "pc"
    arch = "x86_64"

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        super().__init__(clock, console, block)
        self.uart = Uart16550(console)
        self.lapic = LocalApic(clock, APIC_BUS_HZ)
        self.hpet = Hpet(clock)
        self.io.add(
            "com1",
            COM1_PORT,
            Uart16550.SIZE,
            self.uart.read,
            self.uart.write,
            self.uart.write_block,
        )
        self.mmio.add("lapic", LAPIC_BASE, 0x1000, self.lapic.read, self.lapic.write)
        self.mmio.add("hpet", HPET_BASE, Hpet.SIZE, self.hpet.read, self.hpet.write)
        self.iio = IioAccelerometer(clock, IIO_PERIOD_NS)
        self.mmio.add("iio", IIO_BASE, IioAccelerometer.SIZE, self.iio.read, self.iio.write)

    def irq_pending(self) -> bool:
        return self.lapic.pending()
