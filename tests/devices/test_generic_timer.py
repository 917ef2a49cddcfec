"""ARM generic timer: counter, CVAL/TVAL, CTL bits, the level IRQ line, the 100 Hz tick."""

from __future__ import annotations

import pytest

from emulator.clock import VirtualClock
from emulator.devices.generic_timer import PHYS_TIMER_PPI, GenericTimer
from emulator.devices.gicv2 import GICC_CTLR, GICC_EOIR, GICC_IAR, GICC_PMR, GicV2

from .helpers import FakeCounter, advance, guard_timer, step

ENABLE, IMASK, ISTATUS = 1, 2, 4


class Line:
    """Records every level the timer drives onto its IRQ output."""

    def __init__(self) -> None:
        self.levels: list[bool] = []

    def __call__(self, level: bool) -> None:
        self.levels.append(level)

    @property
    def high(self) -> bool:
        return bool(self.levels) and self.levels[-1]


def _timer() -> tuple[VirtualClock, GenericTimer, Line]:
    clock = VirtualClock()
    line = Line()
    return clock, guard_timer(GenericTimer(clock, line)), line


def test_frequency_is_1ghz() -> None:
    _clock, timer, _line = _timer()
    assert timer.read_sysreg("CNTFRQ_EL0") == 1_000_000_000
    assert PHYS_TIMER_PPI == 30


def test_counter_follows_the_clock_exactly() -> None:
    clock, timer, _line = _timer()
    assert timer.read_sysreg("CNTPCT_EL0") == 0
    clock.idle_until(123_456_789)
    assert timer.read_sysreg("CNTPCT_EL0") == 123_456_789
    assert timer.read_sysreg("CNTVCT_EL0") == 123_456_789
    counter = FakeCounter(10)
    clock.begin_slice(counter)
    assert timer.read_sysreg("CNTPCT_EL0") == 123_456_869
    counter.executed = 11
    assert timer.read_sysreg("CNTVCT_EL0") == 123_456_877


def test_counter_at_another_frequency() -> None:
    clock = VirtualClock()
    timer = guard_timer(GenericTimer(clock, lambda level: None, frequency_hz=62_500_000))
    clock.idle_until(1_000_000)  # 1 ms = 62 500 counts of 16 ns
    assert timer.read_sysreg("CNTPCT_EL0") == 62_500
    timer.write_sysreg("CNTP_CVAL_EL0", 62_501)
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    assert clock.next_deadline() == 1_000_016


def test_cval_round_trip_is_64_bit() -> None:
    _clock, timer, _line = _timer()
    timer.write_sysreg("CNTP_CVAL_EL0", (1 << 64) + 5)
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 5
    timer.write_sysreg("CNTP_CVAL_EL0", 0xFFFF_FFFF_FFFF_FFFF)
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 0xFFFF_FFFF_FFFF_FFFF


def test_tval_reads_cval_minus_counter_as_signed_32_bit() -> None:
    clock, timer, _line = _timer()
    timer.write_sysreg("CNTP_CVAL_EL0", 1000)
    assert timer.read_sysreg("CNTP_TVAL_EL0") == 1000
    clock.idle_until(1000)
    assert timer.read_sysreg("CNTP_TVAL_EL0") == 0
    clock.idle_until(1500)
    assert timer.read_sysreg("CNTP_TVAL_EL0") == 0xFFFF_FE0C  # -500
    timer.write_sysreg("CNTP_CVAL_EL0", 1500 + (1 << 32) + 7)
    assert timer.read_sysreg("CNTP_TVAL_EL0") == 7  # truncated to 32 bits


def test_tval_write_is_sign_extended_from_the_counter() -> None:
    clock, timer, _line = _timer()
    clock.idle_until(2000)
    timer.write_sysreg("CNTP_TVAL_EL0", 500)
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 2500
    timer.write_sysreg("CNTP_TVAL_EL0", 0xFFFF_FF9C)  # -100
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 1900
    timer.write_sysreg("CNTP_TVAL_EL0", 0x7FFF_FFFF)
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 2000 + 0x7FFF_FFFF
    timer.write_sysreg("CNTP_TVAL_EL0", 0x8000_0000)  # most negative
    assert timer.read_sysreg("CNTP_CVAL_EL0") == (2000 - 0x8000_0000) % (1 << 64)
    timer.write_sysreg("CNTP_TVAL_EL0", (1 << 32) + 3)  # upper bits ignored
    assert timer.read_sysreg("CNTP_CVAL_EL0") == 2003


def test_ctl_bits() -> None:
    clock, timer, _line = _timer()
    assert timer.read_sysreg("CNTP_CTL_EL0") == 0
    timer.write_sysreg("CNTP_CVAL_EL0", 1000)
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE
    clock.idle_until(1000)
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE | ISTATUS
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE | IMASK)
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE | IMASK | ISTATUS  # IMASK hides nothing
    timer.write_sysreg("CNTP_CTL_EL0", IMASK)
    assert timer.read_sysreg("CNTP_CTL_EL0") == IMASK  # disabled: no ISTATUS
    timer.write_sysreg("CNTP_CTL_EL0", ISTATUS)  # read-only bit
    assert timer.read_sysreg("CNTP_CTL_EL0") == 0
    timer.write_sysreg("CNTP_CTL_EL0", 0xFFFF_FFFF)
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE | IMASK | ISTATUS


def test_irq_line_asserted_exactly_at_cval() -> None:
    clock, timer, line = _timer()
    timer.write_sysreg("CNTP_CVAL_EL0", 1000)
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    assert line.levels == [False, False]
    assert clock.next_deadline() == 1000
    advance(clock, 999)
    assert line.levels == [False, False]
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE
    assert step(clock) == 1000
    assert line.levels == [False, False, True]
    assert clock.next_deadline() is None  # nothing more to wait for while asserted
    # re-arming drops the line and schedules the new deadline
    timer.write_sysreg("CNTP_CVAL_EL0", 3000)
    assert line.levels[-1] is False
    assert clock.next_deadline() == 3000
    assert step(clock) == 3000
    assert line.high


def test_cval_in_the_past_asserts_immediately() -> None:
    clock, timer, line = _timer()
    clock.idle_until(5000)
    timer.write_sysreg("CNTP_CVAL_EL0", 4999)
    assert not line.high  # not enabled yet
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    assert line.high
    timer.write_sysreg("CNTP_TVAL_EL0", 0xFFFF_FF9C)  # CNTPCT - 100: still met
    assert line.high
    timer.write_sysreg("CNTP_TVAL_EL0", 1)
    assert not line.high


def test_imask_and_enable_gate_the_line() -> None:
    clock, timer, line = _timer()
    timer.write_sysreg("CNTP_CVAL_EL0", 100)
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE | IMASK)
    advance(clock, 200)
    assert not line.high
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)  # unmask: condition already holds
    assert line.high
    timer.write_sysreg("CNTP_CTL_EL0", 0)  # disable drops the line, no timer left
    assert not line.high
    assert clock.next_deadline() is None
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    assert line.high


def test_masked_timer_past_cval_does_not_spin_the_clock() -> None:
    # regression: with IMASK set and the condition met, the timer used to re-arm itself
    # at a deadline in the past, and fire_expired() never returned
    clock, timer, line = _timer()
    timer.write_sysreg("CNTP_CVAL_EL0", 100)
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE | IMASK)
    assert clock.next_deadline() == 100
    clock.idle_until(200)
    assert clock.fire_expired() == 1
    assert clock.next_deadline() is None
    assert not line.high
    assert timer.read_sysreg("CNTP_CTL_EL0") == ENABLE | IMASK | ISTATUS


def test_unknown_registers_raise() -> None:
    _clock, timer, _line = _timer()
    with pytest.raises(KeyError):
        timer.read_sysreg("CNTV_CTL_EL0")
    with pytest.raises(KeyError):
        timer.write_sysreg("CNTPCT_EL0", 0)
    with pytest.raises(KeyError):
        timer.write_sysreg("CNTFRQ_EL0", 1)


def test_axiomos_rearm_sequence_is_exactly_100hz() -> None:
    clock = VirtualClock()
    gic = GicV2()
    timer = guard_timer(GenericTimer(clock, lambda level: gic.set_level(PHYS_TIMER_PPI, level)))
    gic.distributor_write(0x000, 1)
    gic.distributor_write(0x400 + PHYS_TIMER_PPI, 0)
    gic.distributor_write(0x100, 1 << PHYS_TIMER_PPI)
    gic.cpu_write(GICC_PMR, 0xFF)
    gic.cpu_write(GICC_CTLR, 1)

    def arm_next() -> None:
        interval = timer.read_sysreg("CNTFRQ_EL0") // 100
        timer.write_sysreg("CNTP_CVAL_EL0", timer.read_sysreg("CNTPCT_EL0") + interval)

    arm_next()
    timer.write_sysreg("CNTP_CTL_EL0", ENABLE)
    ticks = []
    while clock.now_ns() < 1_000_000_000:
        step(clock)
        assert gic.irq_asserted()
        intid = gic.cpu_read(GICC_IAR) & 0x3FF
        assert intid == PHYS_TIMER_PPI
        ticks.append(clock.now_ns())
        arm_next()
        gic.cpu_write(GICC_EOIR, intid)
        assert not gic.irq_asserted()
    assert ticks == [10_000_000 * k for k in range(1, 101)]
    assert gic.spurious == 0
    assert gic.acknowledged == 100
