"""The `rpi5` board (Raspberry Pi 5, BCM2712 + RP1), as axiomOS's rpi5 platform sees it.

Addresses from the original's `platform/rpi5/memory_map.rs` (physical), in
`RPI5_MAP`, the one source of them: UART10, the PL011 debug console; the GIC-400
distributor and CPU interface; the RP1 south bridge's peripherals through its PCIe
window at 0x1F_0000_0000 (GPIO bank 0 at +0xD_0000, PWM0 at +0x9_8000, PWM1 at
+0x9_C000). The RP1 GPIO interrupt reaches the GIC as SPI 229 (INTID 261), the EL1
physical timer as PPI 14 (INTID 30); the generic timer counts at the Pi 5's 54 MHz.
`run-virt -M rpi5 --machine-info` prints the table.

RP1 registers sit behind PCIe, so a register read costs the CPU a bus round trip:
modelled as RP1_READ_NS of guest time per read (writes are posted, free). This is
also what makes handler work visible in guest time, as on the real board.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.boards.base import Board, Window
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.generic_timer import PHYS_TIMER_PPI, GenericTimer
from emulator.devices.gicv2 import GicV2
from emulator.devices.pl011 import Pl011
from emulator.devices.rp1_gpio import Rp1Gpio
from emulator.devices.rp1_pwm import Rp1Pwm
from emulator.devlog import DeviceEventLog
from kernel.board import BoardDescription, MemMapEntry

RPI5_MAP = BoardDescription(
    "rpi5",
    "aarch64",
    "rpi5",
    (
        MemMapEntry("uart10", "pl011", "mmio", 0x10_7D00_1000, Pl011.SIZE),
        MemMapEntry("gicd", "gic400-dist", "mmio", 0x10_7FFF_9000, GicV2.DIST_SIZE),
        MemMapEntry("gicc", "gic400-cpu", "mmio", 0x10_7FFF_A000, GicV2.CPU_SIZE),
        MemMapEntry("rp1-gpio", "rp1-gpio", "mmio", 0x1F_000D_0000, Rp1Gpio.SIZE, 32 + 229),
        MemMapEntry("rp1-pwm0", "rp1-pwm", "mmio", 0x1F_0009_8000, Rp1Pwm.SIZE),
        MemMapEntry("rp1-pwm1", "rp1-pwm", "mmio", 0x1F_0009_C000, Rp1Pwm.SIZE),
        MemMapEntry("timer", "arm-generic-timer", "sysreg", None, 0, PHYS_TIMER_PPI),
    ),
)
# The names tests and tools use for single entries (all read from the table).
UART10_BASE = RPI5_MAP["uart10"].address
GICD_BASE = RPI5_MAP["gicd"].address
GICC_BASE = RPI5_MAP["gicc"].address
RP1_GPIO_BASE = RPI5_MAP["rp1-gpio"].address
RP1_PWM0_BASE = RPI5_MAP["rp1-pwm0"].address
RP1_PWM1_BASE = RPI5_MAP["rp1-pwm1"].address
RP1_GPIO_INTID = RPI5_MAP["rp1-gpio"].irq
GIC400_IRQS = 288  # enough SPIs for INTID 261 (ITLinesNumber 8)
CNTFRQ_HZ = 54_000_000
RP1_READ_NS = 1_000


class Rpi5Board(Board):
    """Single-CPU Raspberry Pi 5 with the RP1 GPIO bank and both PWM controllers."""

    description = RPI5_MAP

    def __init__(
        self,
        clock: VirtualClock,
        console: CharBackend,
        block: BlockDevice,
        events: DeviceEventLog | None = None,
    ) -> None:
        super().__init__(clock, console, block)
        self.events = events if events is not None else DeviceEventLog(clock.now_ns)
        self.uart = Pl011(console)
        self.gic = GicV2(GIC400_IRQS, irq_out=self.cpu_irq.set)
        timer_irq, gpio_irq = self.irq_number("timer"), self.irq_number("rp1-gpio")
        self.timer = GenericTimer(
            clock, lambda level: self.gic.set_level(timer_irq, level), CNTFRQ_HZ
        )
        self.gpio = Rp1Gpio(self.events, lambda level: self.gic.set_level(gpio_irq, level))
        self.pwm = [Rp1Pwm(0, self.events), Rp1Pwm(1, self.events)]
        windows = {
            "uart10": Window(self.uart.read, self.uart.write, self.uart.write_block),
            "gicd": Window(self.gic.distributor_read, self.gic.distributor_write),
            "gicc": Window(self.gic.cpu_read, self.gic.cpu_write),
            "rp1-gpio": Window(self._pcie(self.gpio.read), self.gpio.write),
        }
        for pwm in self.pwm:
            windows[f"rp1-pwm{pwm.chip}"] = Window(self._pcie(pwm.read), pwm.write)
        self.map_devices(windows)

    def _pcie(self, read: Callable[[int, int], int]) -> Callable[[int, int], int]:
        add_ns = self.clock.add_ns

        def timed_read(offset: int, size: int) -> int:
            add_ns(RP1_READ_NS)
            return read(offset, size)

        return timed_read

    def sysreg_read(self, name: str) -> int:
        return self.timer.read_sysreg(name)

    def sysreg_write(self, name: str, value: int) -> None:
        self.timer.write_sysreg(name, value)
