"""AArch64 virt: PL011 console, GICv2, EL1 physical timer re-armed at CNTFRQ/100.

Addresses and interrupt numbers come from the board's table: the console is the
entry `console_entry`, the GIC the entries `gicd` / `gicc`, the tick the `timer`
entry's INTID."""

from __future__ import annotations

from typing import Any

from kernel.arch.base import Platform
from kernel.board import BoardPort
from kernel.drivers.console import Pl011Console
from kernel.hw.generic_timer import CTL_ENABLE
from kernel.hw.gicv2 import (
    CTLR_ENABLE,
    GICC_CTLR,
    GICC_EOIR,
    GICC_IAR,
    GICC_PMR,
    GICD_CTLR,
    GICD_IPRIORITYR,
    GICD_ISENABLER,
    INTID_MASK,
    SPURIOUS,
)

PMR_ALL = 0xFF  # priority mask: let every priority through


class Aarch64Platform(Platform):
    arch = "aarch64"
    tick_hz = 100
    trap_insn_len = 4  # svc #0
    console_entry = "pl011"

    def __init__(self, board: BoardPort) -> None:
        super().__init__(board)
        self.uart = self.desc[self.console_entry].address
        self._console = Pl011Console(board.mmio, self.uart)
        self.gicd = self.desc["gicd"].address
        self.gicc = self.desc["gicc"].address
        timer_irq = self.desc["timer"].irq
        assert timer_irq is not None, "the board table gives the timer no INTID"
        self.timer_intid = timer_irq

    def console_write(self, data: bytes) -> None:
        self._console.write(data)

    def early_boot(self, log: Any) -> None:
        log.raw("A")
        log.raw("\n=== axiom-ebpf on QEMU virt ===\n")

    def init_interrupts(self, log: Any) -> None:
        mmio, gicd, gicc, timer = self.board.mmio, self.gicd, self.gicc, self.timer_intid
        mmio.write(gicd + GICD_CTLR, CTLR_ENABLE)  # distributor on
        mmio.write(gicd + GICD_IPRIORITYR + timer, 0, 1)  # byte write: priority 0, timer only
        mmio.write(gicd + GICD_ISENABLER + timer // 32 * 4, 1 << timer % 32)
        mmio.write(gicc + GICC_PMR, PMR_ALL)
        mmio.write(gicc + GICC_CTLR, CTLR_ENABLE)  # CPU interface on
        self._arm_next()
        self.board.sysreg_write("CNTP_CTL_EL0", CTL_ENABLE)  # enable, unmasked
        log.info("kernel", f"ARM interrupts initialized (timer={timer})")

    def _arm_next(self) -> None:
        board = self.board
        interval = board.sysreg_read("CNTFRQ_EL0") // self.tick_hz
        board.sysreg_write("CNTP_CVAL_EL0", board.sysreg_read("CNTPCT_EL0") + interval)

    def clock_ns(self) -> int:
        board = self.board
        return board.sysreg_read("CNTVCT_EL0") * 1_000_000_000 // board.sysreg_read("CNTFRQ_EL0")

    def take_irq(self) -> int | None:
        intid = self.board.mmio.read(self.gicc + GICC_IAR) & INTID_MASK
        return None if intid == SPURIOUS else intid

    def timer_irq_latency_ns(self) -> int:
        board = self.board
        counts = board.sysreg_read("CNTPCT_EL0") - board.sysreg_read("CNTP_CVAL_EL0")
        return max(0, counts) * 1_000_000_000 // board.sysreg_read("CNTFRQ_EL0")

    def is_timer_irq(self, irq: int) -> bool:
        return irq == self.timer_intid

    def end_irq(self, irq: int) -> None:
        if irq == self.timer_intid:
            self._arm_next()
        self.board.mmio.write(self.gicc + GICC_EOIR, irq)

    def timer_context_metrics(self) -> bool:
        return True
