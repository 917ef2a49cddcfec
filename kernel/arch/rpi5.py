"""Raspberry Pi 5 (BCM2712 + RP1): UART10 console, GIC-400, 54 MHz generic timer.

What differs from QEMU virt, following axiomOS's `rpi5` feature: the console is the
PL011 UART10 at 0x10_7D00_1000; the runtime log is off (`log::set_max_level(Off)`),
so the console carries the single-character debug markers the kernel writes straight
to UART10's data register during bring-up, the `AXIOM KERNEL METRICS` block, panics
and what user programs write; the GIC-400 also routes the RP1 GPIO interrupt (INTID
261); there is no simulated IIO device.

The markers are those of the original's straight-line boot path, in order: boot.S
`{|}`, `_start` `~123456`, `kernel_main` `7`, `init()` `ab` + logger `yzZ` + `c`,
architecture `d` `e` `n`, memory `rRAJKLTUMNOPBCDEFGHIs`, `o` (GIC + timer) `p` `q`
`f`, BPF `gh`, `i` backtrace, `j` VFS, `k` IIO, `l` scheduler, `R` root disk, `m`
devices; after the metrics `89AB`, root mounted `CD`, init created `E`, the forced
first reschedule `SY`, idle `F`; at the first interrupt `M` + its INTID in three hex
digits, and `t` at the first timer interrupt. (The one-shot markers of the
exception and process-start paths are not modelled.)
"""

from __future__ import annotations

from typing import Any

from kernel.arch.aarch64 import SPURIOUS, TIMER_INTID, Aarch64Platform
from kernel.drivers.console import Pl011Console

UART10 = 0x10_7D00_1000
GICD = 0x10_7FFF_9000
GICC = 0x10_7FFF_A000
RP1_BASE = 0x1F_0000_0000
RP1_GPIO = RP1_BASE + 0x000D_0000
RP1_PWM = (RP1_BASE + 0x0009_8000, RP1_BASE + 0x0009_C000)
GPIO_INTID = 261  # RP1 via PCIe2 INTA: SPI 229

MARKS = {
    "entry": "{|}~1234567ab" + "yzZ" + "c",
    "arch": "d",
    "arch_done": "f",
    "bpf": "g",
    "bpf_done": "hi",
    "vfs_done": "j",
    "iio_done": "k",
    "sched_done": "lR",
    "devices_done": "m",
    "main": "89AB",
    "mount": "C",
    "mounted": "D",
    "init_started": "ESYF",
}


class Rpi5Platform(Aarch64Platform):
    name = "rpi5"
    iio_base = None  # the original has no simulated IIO device on the Pi 5
    default_log_level = None  # runtime logging off
    announces_platform = False  # no "Platform initialized" line (a virt message)
    gpio_base = RP1_GPIO
    pwm_bases = RP1_PWM

    def __init__(self, board: Any) -> None:
        self.board = board
        self._console = Pl011Console(board.mmio, UART10)
        self._first_irq = True
        self._first_tick = True

    def mark(self, stage: str) -> None:
        for char in MARKS.get(stage, ""):
            self._console.put(ord(char))

    def early_boot(self, log: Any) -> None:
        self.mark("entry")

    def init_interrupts(self, log: Any) -> None:
        self.mark_raw("en" + "rRAJKLTUMNOPBCDEFGHIs" + "o")
        mmio = self.board.mmio
        mmio.write(GICD + 0x000, 1)  # distributor on
        for intid in (TIMER_INTID, GPIO_INTID):
            word = GICD + 0x400 + intid // 4 * 4
            shift = intid % 4 * 8
            value = mmio.read(word) & ~(0xFF << shift) | (0x80 << shift)
            mmio.write(word, value)  # priority 0x80
            mmio.write(GICD + 0x100 + intid // 32 * 4, 1 << intid % 32)  # ISENABLERn
        mmio.write(GICC + 0x004, 0xFF)  # PMR: everything
        mmio.write(GICC + 0x000, 1)  # CPU interface on
        self._arm_next()
        self.board.sysreg_write("CNTP_CTL_EL0", 1)
        log.info("kernel", f"ARM interrupts initialized (timer={TIMER_INTID}, gpio={GPIO_INTID})")
        self.mark_raw("pq")

    def mark_raw(self, chars: str) -> None:
        for char in chars:
            self._console.put(ord(char))

    def take_irq(self) -> int | None:
        intid = self.board.mmio.read(GICC + 0x00C) & 0x3FF
        if intid == SPURIOUS:
            return None
        if self._first_irq:
            self._first_irq = False
            self.mark_raw(f"M{intid:03X}")
        if intid == TIMER_INTID and self._first_tick:
            self._first_tick = False
            self.mark_raw("t")
        return intid

    def is_gpio_irq(self, irq: int) -> bool:
        return irq == GPIO_INTID

    def end_irq(self, irq: int) -> None:
        if irq == TIMER_INTID:
            self._arm_next()
        self.board.mmio.write(GICC + 0x010, irq)
