"""The `virt` board (AArch64, as QEMU's): PL011 at 0x0900_0000, GICv2, generic timer."""

from __future__ import annotations

from emulator.boards.base import Board
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.generic_timer import PHYS_TIMER_PPI, GenericTimer
from emulator.devices.gicv2 import GicV2
from emulator.devices.iio_accel import IioAccelerometer
from emulator.devices.pl011 import Pl011

UART_BASE = 0x0900_0000
GICD_BASE = 0x0800_0000
GICC_BASE = 0x0801_0000
IIO_BASE = 0x090C_0000
IIO_PERIOD_NS = 1_000_000_000  # 100 ticks of the 100 Hz generic timer


class VirtBoard(Board):
    """Single-CPU virt machine."""

    name = "virt"
    arch = "aarch64"

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        super().__init__(clock, console, block)
        self.uart = Pl011(console)
        self.gic = GicV2()
        self.timer = GenericTimer(clock, lambda level: self.gic.set_level(PHYS_TIMER_PPI, level))
        self.mmio.add(
            "pl011", UART_BASE, Pl011.SIZE, self.uart.read, self.uart.write, self.uart.write_block
        )
        self.mmio.add(
            "gicd",
            GICD_BASE,
            GicV2.DIST_SIZE,
            self.gic.distributor_read,
            self.gic.distributor_write,
        )
        self.mmio.add("gicc", GICC_BASE, GicV2.CPU_SIZE, self.gic.cpu_read, self.gic.cpu_write)
        self.iio = IioAccelerometer(clock, IIO_PERIOD_NS)
        self.mmio.add("iio", IIO_BASE, IioAccelerometer.SIZE, self.iio.read, self.iio.write)

    def sysreg_read(self, name: str) -> int:
        return self.timer.read_sysreg(name)

    def sysreg_write(self, name: str, value: int) -> None:
        self.timer.write_sysreg(name, value)

    def irq_pending(self) -> bool:
        return self.gic.irq_asserted()
