"""Raspberry Pi 5 (BCM2712 + RP1): UART10 console, GIC-400, 54 MHz generic timer.

What differs from QEMU virt, following axiomOS's `rpi5` feature: the console is the
PL011 UART10 (the board table's `uart10`); the runtime log is off (`log::set_max_level(Off)`),
so the console carries the single-character debug markers the kernel writes straight
to UART10's data register during bring-up, the `AXIOM KERNEL METRICS` block, panics
and what user programs write; the GIC-400 also routes the RP1 GPIO interrupt (the
`rp1-gpio` entry's INTID, 261); there is no simulated IIO device.

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

from kernel.arch.aarch64 import PMR_ALL, Aarch64Platform
from kernel.board import BoardPort
from kernel.hw.generic_timer import CTL_ENABLE
from kernel.hw.gicv2 import (
    CTLR_ENABLE,
    GICC_CTLR,
    GICC_IAR,
    GICC_PMR,
    GICD_CTLR,
    GICD_IPRIORITYR,
    GICD_ISENABLER,
    INTID_MASK,
    SPURIOUS,
)

PRIORITY = 0x80  # the timer's and GPIO interrupt's priority

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
    console_entry = "uart10"
    default_log_level = None  # runtime logging off
    announces_platform = False  # no "Platform initialized" line (a virt message)

    def __init__(self, board: BoardPort) -> None:
        super().__init__(board)
        gpio_irq = self.desc["rp1-gpio"].irq
        assert gpio_irq is not None, "the board table gives the RP1 GPIO bank no INTID"
        self.gpio_intid = gpio_irq
        self._first_irq = True
        self._first_tick = True

    def mark(self, stage: str) -> None:
        for char in MARKS.get(stage, ""):
            self._console.put(ord(char))

    def early_boot(self, log: Any) -> None:
        self.mark("entry")

    def init_interrupts(self, log: Any) -> None:
        self.mark_raw("en" + "rRAJKLTUMNOPBCDEFGHIs" + "o")
        mmio, gicd, gicc = self.board.mmio, self.gicd, self.gicc
        mmio.write(gicd + GICD_CTLR, CTLR_ENABLE)  # distributor on
        for intid in (self.timer_intid, self.gpio_intid):
            word = gicd + GICD_IPRIORITYR + intid // 4 * 4
            shift = intid % 4 * 8
            value = mmio.read(word) & ~(0xFF << shift) | (PRIORITY << shift)
            mmio.write(word, value)
            mmio.write(gicd + GICD_ISENABLER + intid // 32 * 4, 1 << intid % 32)
        mmio.write(gicc + GICC_PMR, PMR_ALL)
        mmio.write(gicc + GICC_CTLR, CTLR_ENABLE)  # CPU interface on
        self._arm_next()
        self.board.sysreg_write("CNTP_CTL_EL0", CTL_ENABLE)
        log.info(
            "kernel",
            f"ARM interrupts initialized (timer={self.timer_intid}, gpio={self.gpio_intid})",
        )
        self.mark_raw("pq")

    def mark_raw(self, chars: str) -> None:
        for char in chars:
            self._console.put(ord(char))

    def take_irq(self) -> int | None:
        intid = self.board.mmio.read(self.gicc + GICC_IAR) & INTID_MASK
        if intid == SPURIOUS:
            return None
        if self._first_irq:
            self._first_irq = False
            self.mark_raw(f"M{intid:03X}")
        if intid == self.timer_intid and self._first_tick:
            self._first_tick = False
            self.mark_raw("t")
        return intid

    def is_gpio_irq(self, irq: int) -> bool:
        return irq == self.gpio_intid
