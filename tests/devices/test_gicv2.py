"""GICv2 distributor and CPU interface."""

from __future__ import annotations

from emulator.devices.gicv2 import (
    GICC_CTLR,
    GICC_EOIR,
    GICC_HPPIR,
    GICC_IAR,
    GICC_PMR,
    GICC_RPR,
    GICD_CTLR,
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
    GicV2,
)

SPURIOUS = 1023


def _gic(pmr: int = 0xFF) -> GicV2:
    gic = GicV2()
    gic.distributor_write(GICD_CTLR, 1)
    gic.cpu_write(GICC_PMR, pmr)
    gic.cpu_write(GICC_CTLR, 1)
    return gic


def _set_priority(gic: GicV2, intid: int, priority: int) -> None:
    word = intid & ~3
    shift = 8 * (intid - word)
    value = gic.distributor_read(GICD_IPRIORITYR + word)
    value = value & ~(0xFF << shift) | priority << shift
    gic.distributor_write(GICD_IPRIORITYR + word, value)


def _raise(gic: GicV2, intid: int, priority: int = 0x80) -> None:
    """Enable and software-pend an interrupt."""
    _set_priority(gic, intid, priority)
    gic.distributor_write(GICD_ISENABLER + 4 * (intid // 32), 1 << (intid % 32))
    gic.distributor_write(GICD_ISPENDR + 4 * (intid // 32), 1 << (intid % 32))


def test_typer_and_iidr() -> None:
    gic = GicV2()
    assert gic.distributor_read(GICD_TYPER) == 2  # (2 + 1) * 32 = 96 interrupt lines
    assert gic.distributor_read(GICD_IIDR) == 0x0200_143B
    assert gic.distributor_read(GICD_ITARGETSR + 32) == 0x0101_0101


def test_reset_state() -> None:
    gic = GicV2()
    assert gic.distributor_read(GICD_CTLR) == 0
    assert gic.cpu_read(GICC_CTLR) == 0
    assert gic.cpu_read(GICC_PMR) == 0
    assert gic.cpu_read(GICC_RPR) == 0xFF
    assert gic.cpu_read(GICC_IAR) == SPURIOUS


def test_distributor_and_cpu_interface_both_gate_delivery() -> None:
    gic = GicV2()
    gic.cpu_write(GICC_PMR, 0xFF)
    _raise(gic, 40, 0x10)
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS  # both off
    gic.distributor_write(GICD_CTLR, 1)
    assert gic.distributor_read(GICD_CTLR) == 1
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS  # CPU interface off
    gic.distributor_write(GICD_CTLR, 0)
    gic.cpu_write(GICC_CTLR, 1)
    assert gic.cpu_read(GICC_CTLR) == 1
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS  # distributor off
    assert gic.spurious == 3
    assert gic.acknowledged == 0
    gic.distributor_write(GICD_CTLR, 0xFF)  # only bit 0 counts
    assert gic.distributor_read(GICD_CTLR) == 1
    assert gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == 40
    assert gic.acknowledged == 1
    assert gic.spurious == 3


def test_enable_bitmaps() -> None:
    gic = GicV2()
    gic.distributor_write(GICD_ISENABLER + 4, 0x0000_0101)  # INTIDs 32 and 40
    assert gic.distributor_read(GICD_ISENABLER + 4) == 0x101
    assert gic.distributor_read(GICD_ICENABLER + 4) == 0x101
    assert gic.distributor_read(GICD_ISENABLER) == 0
    gic.distributor_write(GICD_ISENABLER + 4, 0)  # zero bits change nothing
    assert gic.distributor_read(GICD_ISENABLER + 4) == 0x101
    gic.distributor_write(GICD_ICENABLER + 4, 0x1)
    assert gic.distributor_read(GICD_ISENABLER + 4) == 0x100
    gic.distributor_write(GICD_ISENABLER + 8, 0x8000_0001)  # INTIDs 64 and 95
    assert gic.distributor_read(GICD_ISENABLER + 8) == 0x8000_0001
    assert gic.enabled[95] and gic.enabled[64] and gic.enabled[40] and not gic.enabled[32]
    gic.distributor_write(GICD_ISENABLER + 12, 0xFFFF_FFFF)  # beyond ITLinesNumber
    assert gic.distributor_read(GICD_ISENABLER + 12) == 0
    assert sum(gic.enabled) == 3


def test_pending_bitmaps() -> None:
    gic = GicV2()
    gic.distributor_write(GICD_ISPENDR, 0x4000_0002)  # INTIDs 1 and 30
    assert gic.distributor_read(GICD_ISPENDR) == 0x4000_0002
    assert gic.distributor_read(GICD_ICPENDR) == 0x4000_0002
    gic.distributor_write(GICD_ICPENDR, 0x4000_0000)
    assert gic.distributor_read(GICD_ISPENDR) == 0x2
    gic.distributor_write(GICD_ISPENDR + 8, 1 << 31)
    assert gic.distributor_read(GICD_ISPENDR + 8) == 1 << 31
    assert gic.cpu_read(GICC_HPPIR) == SPURIOUS  # pending but not enabled


def test_priority_registers_are_bytes_in_words() -> None:
    gic = GicV2()
    gic.distributor_write(GICD_IPRIORITYR + 40, 0x8040_2010)
    assert gic.priority[40:44] == [0x10, 0x20, 0x40, 0x80]
    assert gic.distributor_read(GICD_IPRIORITYR + 40) == 0x8040_2010
    assert gic.distributor_read(GICD_IPRIORITYR + 44) == 0
    gic.distributor_write(GICD_IPRIORITYR + 92, 0xAABB_CCDD)  # last word: 92..95
    assert gic.distributor_read(GICD_IPRIORITYR + 92) == 0xAABB_CCDD


def test_pmr_masks_equal_and_lower_priorities() -> None:
    gic = _gic(pmr=0x80)
    _raise(gic, 40, 0x80)
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS
    gic.cpu_write(GICC_PMR, 0x81)
    assert gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == 40
    gic.cpu_write(GICC_PMR, 0x1FF)
    assert gic.cpu_read(GICC_PMR) == 0xFF


def test_iar_returns_highest_priority_then_lowest_id() -> None:
    gic = _gic()
    _raise(gic, 33, 0x40)
    _raise(gic, 35, 0x20)
    _raise(gic, 34, 0x20)
    _raise(gic, 36, 0xA0)
    assert gic.cpu_read(GICC_HPPIR) == 34
    assert [gic.cpu_read(GICC_IAR) for _ in range(5)] == [34, 35, 33, 36, SPURIOUS]
    assert gic.spurious == 1
    assert gic.acknowledged == 4


def test_active_until_eoir() -> None:
    gic = _gic()
    _raise(gic, 34, 0x20)
    assert gic.cpu_read(GICC_IAR) == 34
    assert gic.distributor_read(GICD_ISPENDR + 4) == 0  # edge/software pend consumed
    assert gic.distributor_read(GICD_ISACTIVER + 4) == 1 << 2
    assert gic.cpu_read(GICC_RPR) == 0x20
    gic.distributor_write(GICD_ISPENDR + 4, 1 << 2)  # pend again while active
    assert gic.cpu_read(GICC_IAR) == SPURIOUS
    assert not gic.irq_asserted()
    gic.cpu_write(GICC_EOIR, 0x1C00 | 34)  # CPUID bits are ignored
    assert gic.distributor_read(GICD_ISACTIVER + 4) == 0
    assert gic.cpu_read(GICC_RPR) == 0xFF
    assert gic.cpu_read(GICC_IAR) == 34
    gic.cpu_write(GICC_EOIR, 34)
    gic.cpu_write(GICC_EOIR, 34)  # EOI of an inactive interrupt is ignored
    assert gic.active == []


def test_level_interrupt_re_pends_after_eoi_while_high() -> None:
    gic = _gic()
    gic.distributor_write(GICD_ISENABLER, 1 << 30)
    gic.set_level(30, True)
    assert gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == 30
    assert gic.distributor_read(GICD_ISPENDR) == 1 << 30  # active and pending
    assert gic.distributor_read(GICD_ISACTIVER) == 1 << 30
    assert gic.cpu_read(GICC_IAR) == SPURIOUS
    gic.cpu_write(GICC_EOIR, 30)
    assert gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == 30
    gic.distributor_write(GICD_ICPENDR, 1 << 30)  # clearing pending while active ...
    assert gic.distributor_read(GICD_ISPENDR) == 0
    gic.cpu_write(GICC_EOIR, 30)
    assert gic.cpu_read(GICC_IAR) == 30  # ... does not hide a line that is still high
    gic.set_level(30, False)  # the handler quietens the source before EOI
    assert gic.distributor_read(GICD_ISPENDR) == 0
    gic.cpu_write(GICC_EOIR, 30)
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS


def test_level_interrupt_dropped_before_acknowledge_is_not_pending() -> None:
    gic = _gic()
    gic.distributor_write(GICD_ISENABLER, 1 << 30)
    gic.set_level(30, True)
    gic.set_level(30, False)
    assert gic.cpu_read(GICC_IAR) == SPURIOUS


def test_edge_interrupt_latches_and_does_not_re_pend() -> None:
    gic = _gic()
    gic.distributor_write(GICD_ICFGR + 8, 1 << 17)  # INTID 40: edge-triggered
    assert gic.distributor_read(GICD_ICFGR + 8) == 1 << 17
    gic.distributor_write(GICD_ISENABLER + 4, 1 << 8)
    gic.set_level(40, True)
    gic.set_level(40, False)
    assert gic.distributor_read(GICD_ISPENDR + 4) == 1 << 8  # latched
    gic.set_level(40, True)
    assert gic.cpu_read(GICC_IAR) == 40
    assert gic.distributor_read(GICD_ISPENDR + 4) == 0
    gic.set_level(40, False)
    gic.cpu_write(GICC_EOIR, 40)
    assert gic.cpu_read(GICC_IAR) == SPURIOUS


def test_disabled_interrupt_is_not_delivered() -> None:
    gic = _gic()
    _raise(gic, 50, 0x10)
    gic.distributor_write(GICD_ICENABLER + 4, 1 << 18)
    assert gic.distributor_read(GICD_ISPENDR + 4) == 1 << 18
    assert not gic.irq_asserted()
    assert gic.cpu_read(GICC_IAR) == SPURIOUS
    gic.distributor_write(GICD_ISENABLER + 4, 1 << 18)
    assert gic.cpu_read(GICC_IAR) == 50
