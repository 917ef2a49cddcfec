"""ARM GICv2 distributor and CPU interface (one CPU), as QEMU's arm_gic models it.

Distributor (GICD): CTLR, TYPER, ISENABLER/ICENABLER, ISPENDR/ICPENDR,
ISACTIVER/ICACTIVER, IPRIORITYR, ITARGETSR, ICFGR. CPU interface (GICC): CTLR, PMR,
IAR (acknowledge; 1023 when nothing is pending), EOIR, RPR, HPPIR.
Inputs are level lines (`set_level`); a level-high enabled interrupt is pending.
The output is the CPU's IRQ line, driven through a callback whenever its level
changes (QEMU's `gic_update()` on a `qemu_irq`): every register write, acknowledge
and input change recomputes it, so the machine reads a wire instead of scanning
the interrupt state after every CPU slice.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.hw import gicv2 as regs
from kernel.hw.gicv2 import (
    CTLR_ENABLE,
    GICC_CTLR,
    GICC_EOIR,
    GICC_HPPIR,
    GICC_IAR,
    GICC_PMR,
    GICC_RPR,
    GICD_CTLR,
    GICD_ICACTIVER,
    GICD_ICENABLER,
    GICD_ICFGR,
    GICD_ICPENDR,
    GICD_IIDR,
    GICD_IPRIORITYR,
    GICD_ISACTIVER,
    GICD_ISENABLER,
    GICD_ISPENDR,
    GICD_ITARGETSR,
    GICD_TYPER,
    INTID_MASK,
    SPURIOUS,
)

NUM_IRQS = 96


class GicV2:
    """Single-CPU GICv2; `distributor_*` and `cpu_*` are the two register frames."""

    DIST_SIZE = regs.DIST_SIZE
    CPU_SIZE = regs.CPU_SIZE

    def __init__(
        self, num_irqs: int = NUM_IRQS, irq_out: Callable[[bool], None] | None = None
    ) -> None:
        self.num_irqs = num_irqs  # a multiple of 32 (GICD_TYPER.ITLinesNumber)
        self.irq_out = irq_out or (lambda _level: None)  # the CPU's IRQ input
        self._out = False
        self.dist_enabled = False
        self.cpu_enabled = False
        self.pmr = 0
        self.enabled = [False] * self.num_irqs
        self.pending = [False] * self.num_irqs
        self._pending_ids: set[int] = set()  # the True entries of `pending`, for the scan
        self.level = [False] * self.num_irqs
        self.active: list[int] = []
        self.priority = [0] * self.num_irqs
        self.config = [0] * (self.num_irqs // 16)
        self.acknowledged = 0
        self.spurious = 0

    # ------------------------------------------------------------ inputs

    def set_level(self, intid: int, level: bool) -> None:
        was = self.level[intid], self.pending[intid]
        self.level[intid] = level
        if level:
            self._set_pending(intid, True)
        elif not self._edge(intid):
            self._set_pending(intid, False)
        if (level, self.pending[intid]) != was:
            self._update()

    def _set_pending(self, intid: int, state: bool) -> None:
        self.pending[intid] = state
        if state:
            self._pending_ids.add(intid)
        else:
            self._pending_ids.discard(intid)

    def _update(self) -> None:
        """Recompute the CPU's IRQ line; tell the CPU side only when it changes."""
        out = self.irq_asserted()
        if out != self._out:
            self._out = out
            self.irq_out(out)

    def _edge(self, intid: int) -> bool:
        return bool((self.config[intid // 16] >> ((intid % 16) * 2 + 1)) & 1)

    def _best_pending(self) -> int | None:
        """The highest-priority (lowest value, then lowest INTID) deliverable one.

        Only pending interrupts are looked at (usually none or one), not all lines."""
        best, best_priority = -1, 0x100
        enabled, priority, pmr, active = self.enabled, self.priority, self.pmr, self.active
        for intid in self._pending_ids:
            prio = priority[intid]
            if enabled[intid] and prio < pmr and intid not in active:
                if prio < best_priority or (prio == best_priority and intid < best):
                    best, best_priority = intid, prio
        return None if best < 0 else best

    def irq_asserted(self) -> bool:
        """Is the CPU's IRQ line high (something deliverable is pending)?"""
        return self.dist_enabled and self.cpu_enabled and self._best_pending() is not None

    # ------------------------------------------------------------ distributor

    def _bitmap_read(self, flags: list[bool], offset: int) -> int:
        base = offset * 8
        return sum(1 << i for i in range(32) if base + i < self.num_irqs and flags[base + i])

    def _bitmap_write(self, flags: list[bool], offset: int, value: int, state: bool) -> None:
        base = offset * 8
        for i in range(32):
            if value >> i & 1 and base + i < self.num_irqs:
                flags[base + i] = state

    def distributor_read(self, offset: int, size: int = 4) -> int:
        if self._byte_accessible(offset):
            return self._byte_registers_read(offset, size)
        if size != 4 or offset % 4:
            return 0  # word-only register: other widths read as zero
        if offset == GICD_CTLR:
            return int(self.dist_enabled)
        if offset == GICD_TYPER:
            return self.num_irqs // 32 - 1
        if offset == GICD_IIDR:
            return 0x0200143B
        for base, flags in (
            (GICD_ISENABLER, self.enabled),
            (GICD_ICENABLER, self.enabled),
            (GICD_ISPENDR, self.pending),
            (GICD_ICPENDR, self.pending),
        ):
            if base <= offset < base + self.num_irqs // 8:
                return self._bitmap_read(flags, offset - base)
        if GICD_ISACTIVER <= offset < GICD_ICACTIVER + self.num_irqs // 8:
            act = [i in self.active for i in range(self.num_irqs)]
            return self._bitmap_read(act, (offset - GICD_ISACTIVER) % 0x80)
        if GICD_ICFGR <= offset < GICD_ICFGR + self.num_irqs // 4:
            return self.config[(offset - GICD_ICFGR) // 4]
        return 0

    def _byte_accessible(self, offset: int) -> bool:
        """IPRIORITYR and ITARGETSR take byte, halfword and word accesses (GICv2 4.1.4);
        every other distributor register is word-only."""
        return (
            GICD_IPRIORITYR <= offset < GICD_IPRIORITYR + self.num_irqs
            or GICD_ITARGETSR <= offset < GICD_ITARGETSR + self.num_irqs
        )

    def _byte_registers_read(self, offset: int, size: int) -> int:
        """IPRIORITYR / ITARGETSR: one byte per interrupt, any width from 1 to 4."""
        if offset >= GICD_ITARGETSR:
            i = offset - GICD_ITARGETSR
            return sum(1 << (8 * k) for k in range(size) if i + k < self.num_irqs)  # CPU 0
        i = offset - GICD_IPRIORITYR
        return sum(self.priority[i + k] << (8 * k) for k in range(size) if i + k < self.num_irqs)

    def distributor_write(self, offset: int, value: int, size: int = 4) -> None:
        self._distributor_write(offset, value, size)
        self._update()

    def _distributor_write(self, offset: int, value: int, size: int) -> None:
        if self._byte_accessible(offset):
            if offset < GICD_ITARGETSR:  # targets are fixed: one CPU
                i = offset - GICD_IPRIORITYR
                for k in range(min(size, 4)):
                    if i + k < self.num_irqs:
                        self.priority[i + k] = (value >> (8 * k)) & 0xFF
            return
        if size != 4 or offset % 4:
            return  # word-only register: other widths are ignored
        if offset == GICD_CTLR:
            self.dist_enabled = bool(value & CTLR_ENABLE)
        elif GICD_ISENABLER <= offset < GICD_ISENABLER + self.num_irqs // 8:
            self._bitmap_write(self.enabled, offset - GICD_ISENABLER, value, True)
        elif GICD_ICENABLER <= offset < GICD_ICENABLER + self.num_irqs // 8:
            self._bitmap_write(self.enabled, offset - GICD_ICENABLER, value, False)
        elif GICD_ISPENDR <= offset < GICD_ISPENDR + self.num_irqs // 8:
            self._bitmap_write(self.pending, offset - GICD_ISPENDR, value, True)
            self._pending_ids = {i for i, p in enumerate(self.pending) if p}
        elif GICD_ICPENDR <= offset < GICD_ICPENDR + self.num_irqs // 8:
            self._bitmap_write(self.pending, offset - GICD_ICPENDR, value, False)
            self._pending_ids = {i for i, p in enumerate(self.pending) if p}
        elif GICD_ICFGR <= offset < GICD_ICFGR + self.num_irqs // 4:
            self.config[(offset - GICD_ICFGR) // 4] = value & 0xFFFF_FFFF

    # ------------------------------------------------------------ cpu interface

    def cpu_read(self, offset: int, size: int = 4) -> int:
        if size != 4 or offset % 4:
            return 0  # the CPU interface is word-access only
        if offset == GICC_CTLR:
            return int(self.cpu_enabled)
        if offset == GICC_PMR:
            return self.pmr
        if offset == GICC_IAR:
            intid = self._best_pending() if self.dist_enabled and self.cpu_enabled else None
            if intid is None:
                self.spurious += 1
                return SPURIOUS
            self.active.append(intid)
            if self._edge(intid) or not self.level[intid]:
                self._set_pending(intid, False)
            self.acknowledged += 1
            self._update()
            return intid
        if offset == GICC_RPR:
            return self.priority[self.active[-1]] if self.active else 0xFF
        if offset == GICC_HPPIR:
            best = self._best_pending()
            return SPURIOUS if best is None else best
        return 0

    def cpu_write(self, offset: int, value: int, size: int = 4) -> None:
        self._cpu_write(offset, value, size)
        self._update()

    def _cpu_write(self, offset: int, value: int, size: int) -> None:
        if size != 4 or offset % 4:
            return
        if offset == GICC_CTLR:
            self.cpu_enabled = bool(value & CTLR_ENABLE)
        elif offset == GICC_PMR:
            self.pmr = value & 0xFF
        elif offset == GICC_EOIR:
            intid = value & INTID_MASK
            if intid in self.active:
                self.active.remove(intid)
                if self.level[intid]:
                    self._set_pending(intid, True)
