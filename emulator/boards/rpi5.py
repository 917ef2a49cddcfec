"""The `rpi5` board (Raspberry Pi 5, BCM2712 + RP1), as axiomOS's rpi5 platform sees it.

Addresses from the original's `platform/rpi5/memory_map.rs` (physical): UART10, the
PL011 debug console, at 0x10_7D00_1000; GIC-400 distributor 0x10_7FFF_9000 and CPU
interface 0x10_7FFF_A000; the RP1 south bridge's peripherals through its PCIe window
at 0x1F_0000_0000: GPIO bank 0 at +0xD_0000, PWM0 at +0x9_8000, PWM1 at +0x9_C000.
The RP1 GPIO interrupt reaches the GIC as SPI 229 (INTID 261), the EL1 physical
timer as PPI 14 (INTID 30); the generic timer counts at the Pi 5's 54 MHz.

RP1 registers sit behind PCIe, so a register read costs the CPU a bus round trip:
modelled as RP1_READ_NS of guest time per read (writes are posted, free). This is
also what makes handler work visible in guest time, as on the real board.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.boards.base import Board
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.generic_timer import PHYS_TIMER_PPI, GenericTimer
from emulator.devices.gicv2 import GicV2
from emulator.devices.pl011 import Pl011
from emulator.devices.rp1_gpio import Rp1Gpio
from emulator.devices.rp1_pwm import Rp1Pwm
from emulator.devlog import DeviceEventLog

UART10_BASE = 0x10_7D00_1000
GICD_BASE = 0x10_7FFF_9000
GICC_BASE = 0x10_7FFF_A000
RP1_BASE = 0x1F_0000_0000
RP1_GPIO_BASE = RP1_BASE + 0x000D_0000
RP1_PWM0_BASE = RP1_BASE + 0x0009_8000
RP1_PWM1_BASE = RP1_BASE + 0x0009_C000
RP1_GPIO_INTID = 32 + 229
GIC400_IRQS = 288  # enough SPIs for INTID 261 (ITLinesNumber 8)
CNTFRQ_HZ = 54_000_000
RP1_READ_NS = 1_000


class Rpi5Board(Board):
    """Single-CPU Raspberry Pi 5 with the RP1 GPIO bank and both PWM controllers."""

    name = "rpi5"
    arch = "aarch64"
    platform = "rpi5"

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
        self.gic = GicV2(GIC400_IRQS)
        self.timer = GenericTimer(
            clock, lambda level: self.gic.set_level(PHYS_TIMER_PPI, level), CNTFRQ_HZ
        )
        self.gpio = Rp1Gpio(self.events, lambda level: self.gic.set_level(RP1_GPIO_INTID, level))
        self.pwm = [Rp1Pwm(0, self.events), Rp1Pwm(1, self.events)]
        self.mmio.add(
            "uart10",
            UART10_BASE,
            Pl011.SIZE,
            self.uart.read,
            self.uart.write,
            self.uart.write_block,
        )
        self.mmio.add(
            "gicd",
            GICD_BASE,
            GicV2.DIST_SIZE,
            self.gic.distributor_read,
            self.gic.distributor_write,
        )
        self.mmio.add("gicc", GICC_BASE, GicV2.CPU_SIZE, self.gic.cpu_read, self.gic.cpu_write)
        self.mmio.add(
            "rp1-gpio", RP1_GPIO_BASE, Rp1Gpio.SIZE, self._pcie(self.gpio.read), self.gpio.write
        )
        for base, pwm in ((RP1_PWM0_BASE, self.pwm[0]), (RP1_PWM1_BASE, self.pwm[1])):
            self.mmio.add(f"rp1-pwm{pwm.chip}", base, Rp1Pwm.SIZE, self._pcie(pwm.read), pwm.write)

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

    def irq_pending(self) -> bool:
        return self.gic.irq_asserted()
