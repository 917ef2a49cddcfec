"""AArch64 virt: PL011 console, GICv2, EL1 physical timer re-armed at CNTFRQ/100."""

from __future__ import annotations

from typing import Any

from kernel.arch.base import Platform
from kernel.drivers.console import Pl011Console

GICD = 0x0800_0000
GICC = 0x0801_0000
TIMER_INTID = 30
SPURIOUS = 1023
IIO = 0x090C_0000


class Aarch64Platform(Platform):
    arch = "aarch64"
    tick_hz = 100
    trap_insn_len = 4  # svc #0
    iio_base: int | None = IIO

    def __init__(self, board: Any) -> None:
        super().__init__(board)
        self._console = Pl011Console(board.mmio)

    def console_write(self, data: bytes) -> None:
        self._console.write(data)

    def early_boot(self, log: Any) -> None:
        log.raw("A")
        log.raw("\n=== axiom-ebpf on QEMU virt ===\n")

    def init_interrupts(self, log: Any) -> None:
        mmio = self.board.mmio
        mmio.write(GICD + 0x000, 1)  # distributor on
        mmio.write(GICD + 0x400 + TIMER_INTID, 0, 1)  # byte write: priority 0 for INTID 30 only
        mmio.write(GICD + 0x100, 1 << TIMER_INTID)  # ISENABLER0: INTID 30
        mmio.write(GICC + 0x004, 0xFF)  # PMR: everything
        mmio.write(GICC + 0x000, 1)  # CPU interface on
        self._arm_next()
        self.board.sysreg_write("CNTP_CTL_EL0", 1)  # enable, unmasked
        log.info("kernel", f"ARM interrupts initialized (timer={TIMER_INTID})")

    def _arm_next(self) -> None:
        board = self.board
        interval = board.sysreg_read("CNTFRQ_EL0") // self.tick_hz
        board.sysreg_write("CNTP_CVAL_EL0", board.sysreg_read("CNTPCT_EL0") + interval)

    def clock_ns(self) -> int:
        board = self.board
        return board.sysreg_read("CNTVCT_EL0") * 1_000_000_000 // board.sysreg_read("CNTFRQ_EL0")

    def take_irq(self) -> int | None:
        intid = self.board.mmio.read(GICC + 0x00C) & 0x3FF
        return None if intid == SPURIOUS else intid

    def timer_irq_latency_ns(self) -> int:
        board = self.board
        counts = board.sysreg_read("CNTPCT_EL0") - board.sysreg_read("CNTP_CVAL_EL0")
        return max(0, counts) * 1_000_000_000 // board.sysreg_read("CNTFRQ_EL0")

    def is_timer_irq(self, irq: int) -> bool:
        return irq == TIMER_INTID

    def end_irq(self, irq: int) -> None:
        if irq == TIMER_INTID:
            self._arm_next()
        self.board.mmio.write(GICC + 0x010, irq)

    def timer_context_metrics(self) -> bool:
        return True
