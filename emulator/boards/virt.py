"""The `virt` board (AArch64, as QEMU's): PL011, GICv2, generic timer, IIO sensor.

The memory map (`VIRT_MAP`, QEMU virt's addresses) is the one source of these
addresses and IRQs: the buses and IRQ wiring are built from it and the kernel reads
it (`run-virt --arch aarch64 --machine-info` prints it).
"""

from __future__ import annotations

from emulator.boards.base import Board, Window
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.generic_timer import PHYS_TIMER_PPI, GenericTimer
from emulator.devices.gicv2 import GicV2
from emulator.devices.iio_accel import IioAccelerometer
from emulator.devices.pl011 import Pl011
from kernel.board import BoardDescription, MemMapEntry

VIRT_MAP = BoardDescription(
    "virt",
    "aarch64",
    "aarch64",
    (
        MemMapEntry("pl011", "pl011", "mmio", 0x0900_0000, Pl011.SIZE),
        MemMapEntry("gicd", "gicv2-dist", "mmio", 0x0800_0000, GicV2.DIST_SIZE),
        MemMapEntry("gicc", "gicv2-cpu", "mmio", 0x0801_0000, GicV2.CPU_SIZE),
        MemMapEntry("iio", "iio-accel", "mmio", 0x090C_0000, IioAccelerometer.SIZE),
        MemMapEntry("timer", "arm-generic-timer", "sysreg", None, 0, PHYS_TIMER_PPI),
    ),
)
IIO_PERIOD_NS = 1_000_000_000  # 100 ticks of the 100 Hz generic timer


class VirtBoard(Board):
    """Single-CPU virt machine."""

    description = VIRT_MAP

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        super().__init__(clock, console, block)
        self.uart = Pl011(console)
        self.gic = GicV2(irq_out=self.cpu_irq.set)
        timer_irq = self.irq_number("timer")
        self.timer = GenericTimer(clock, lambda level: self.gic.set_level(timer_irq, level))
        self.iio = IioAccelerometer(clock, IIO_PERIOD_NS)
        self.map_devices(
            {
                "pl011": Window(self.uart.read, self.uart.write, self.uart.write_block),
                "gicd": Window(self.gic.distributor_read, self.gic.distributor_write),
                "gicc": Window(self.gic.cpu_read, self.gic.cpu_write),
                "iio": Window(self.iio.read, self.iio.write),
            }
        )

    def sysreg_read(self, name: str) -> int:
        return self.timer.read_sysreg(name)

    def sysreg_write(self, name: str, value: int) -> None:
        self.timer.write_sysreg(name, value)
