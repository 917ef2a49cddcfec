"""Local APIC: timer modes, divide encodings, counts, IRR/ISR/EOI, identification."""

from __future__ import annotations

import pytest

from emulator.clock import VirtualClock
from emulator.devices.lapic import (
    EOI,
    ID,
    IRR_BASE,
    ISR_BASE,
    LVT_TIMER,
    SVR,
    TIMER_CURRENT,
    TIMER_DIVIDE,
    TIMER_INITIAL,
    TPR,
    VERSION,
    LocalApic,
)

from .helpers import advance, step

PERIODIC = 1 << 17
MASKED = 1 << 16
VECTOR = 0x20
PERIOD_NS = 5_000_000


def _axiomos(clock: VirtualClock) -> LocalApic:
    """Program the timer exactly as the x86_64 kernel does."""
    lapic = LocalApic(clock, 1_000_000_000)
    lapic.write(SVR, 0x1FF)
    lapic.write(TIMER_DIVIDE, 0b0011)
    lapic.write(LVT_TIMER, PERIODIC | VECTOR)
    lapic.write(TIMER_INITIAL, 312_500)
    return lapic


def test_id_and_version() -> None:
    clock = VirtualClock()
    assert LocalApic(clock).read(ID) == 0
    assert LocalApic(clock, apic_id=3).read(ID) == 0x0300_0000
    assert LocalApic(clock).read(VERSION) == 0x0005_0014


def test_reset_state() -> None:
    lapic = LocalApic(VirtualClock())
    assert lapic.read(LVT_TIMER) == MASKED
    assert lapic.read(SVR) == 0xFF
    assert lapic.read(TIMER_INITIAL) == 0
    assert lapic.read(TIMER_CURRENT) == 0
    assert lapic.read(TIMER_DIVIDE) == 0
    assert lapic.read(0x3F0) == 0  # unimplemented register


def test_tpr_and_svr_round_trip() -> None:
    lapic = LocalApic(VirtualClock())
    lapic.write(TPR, 0x1_23)
    assert lapic.read(TPR) == 0x23
    lapic.write(SVR, 0x1FF)
    assert lapic.read(SVR) == 0x1FF


@pytest.mark.parametrize(
    ("encoding", "divisor"),
    [
        (0b0000, 2),
        (0b0001, 4),
        (0b0010, 8),
        (0b0011, 16),
        (0b1000, 32),
        (0b1001, 64),
        (0b1010, 128),
        (0b1011, 1),
    ],
)
def test_divide_configuration(encoding: int, divisor: int) -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock, 1_000_000_000)
    lapic.write(TIMER_DIVIDE, encoding)
    assert lapic.read(TIMER_DIVIDE) == encoding
    assert lapic.divisor == divisor
    lapic.write(LVT_TIMER, VECTOR)
    lapic.write(TIMER_INITIAL, 1000)
    assert lapic.period_ns() == 1000 * divisor
    assert clock.next_deadline() == 1000 * divisor
    advance(clock, 500 * divisor)
    assert lapic.read(TIMER_CURRENT) == 500
    assert step(clock) == 1000 * divisor
    assert lapic.irr == {VECTOR}


def test_divide_register_ignores_bit_2_and_upper_bits() -> None:
    lapic = LocalApic(VirtualClock())
    lapic.write(TIMER_DIVIDE, 0xFFFF_FFFB)  # bit 2 clear, everything else set
    assert lapic.read(TIMER_DIVIDE) == 0b1011
    assert lapic.divisor == 1
    lapic.write(TIMER_DIVIDE, 0b0111)
    assert lapic.read(TIMER_DIVIDE) == 0b0011
    assert lapic.divisor == 16


def test_divide_scales_with_bus_frequency() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock, bus_hz=100_000_000)  # 10 ns per bus clock
    lapic.write(TIMER_DIVIDE, 0b0001)  # /4
    lapic.write(LVT_TIMER, VECTOR)
    lapic.write(TIMER_INITIAL, 250)
    assert clock.next_deadline() == 10_000


def test_periodic_axiomos_tick_every_5ms() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    assert lapic.period_ns() == PERIOD_NS
    expiries = []
    for _ in range(10):
        expiries.append(step(clock))
        assert lapic.pending()
        assert lapic.acknowledge() == VECTOR
        lapic.write(EOI, 0)
    assert expiries == [PERIOD_NS * k for k in range(1, 11)]
    assert lapic.expirations == 10
    assert clock.next_deadline() == 11 * PERIOD_NS


def test_periodic_counts_from_the_initial_count_write() -> None:
    clock = VirtualClock()
    clock.idle_until(1234)
    lapic = _axiomos(clock)
    assert [step(clock) for _ in range(3)] == [1234 + PERIOD_NS * k for k in (1, 2, 3)]
    assert lapic.expirations == 3


def test_periodic_ticks_do_not_drift_when_serviced_late() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    clock.idle_until(PERIOD_NS + 777)  # IRQ handled 777 ns late
    clock.fire_expired()
    assert clock.next_deadline() == 2 * PERIOD_NS
    assert lapic.irr == {VECTOR}
    assert lapic.read(TIMER_CURRENT) == (PERIOD_NS - 777) // 16  # counting since 5 ms


def test_rewriting_initial_count_restarts_the_period() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    clock.idle_until(1_000_000)
    lapic.write(TIMER_INITIAL, 312_500)
    assert clock.next_deadline() == 6_000_000
    assert lapic.read(TIMER_CURRENT) == 312_500


def test_one_shot_fires_once() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock)
    lapic.write(TIMER_DIVIDE, 0b0011)
    lapic.write(LVT_TIMER, VECTOR)
    lapic.write(TIMER_INITIAL, 312_500)
    assert advance(clock, 50_000_000) == 1
    assert lapic.expirations == 1
    assert lapic.read(IRR_BASE + 0x10) == 1  # vector 0x20 = word 1, bit 0
    assert clock.next_deadline() is None
    assert lapic.read(TIMER_CURRENT) == 0


def test_rewriting_lvt_after_one_shot_expiry_does_not_fire_again() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock)
    lapic.write(TIMER_DIVIDE, 0b1011)
    lapic.write(LVT_TIMER, VECTOR)
    lapic.write(TIMER_INITIAL, 100)
    advance(clock, 1000)
    assert lapic.acknowledge() == VECTOR
    lapic.write(EOI, 0)
    lapic.write(LVT_TIMER, VECTOR)  # e.g. re-unmasking: the count is already 0
    assert clock.next_deadline() is None
    advance(clock, 10_000)
    assert lapic.expirations == 1
    assert not lapic.pending()


def test_rewriting_lvt_of_a_running_one_shot_keeps_its_deadline() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock)
    lapic.write(TIMER_DIVIDE, 0b1011)
    lapic.write(LVT_TIMER, MASKED | VECTOR)
    lapic.write(TIMER_INITIAL, 100)
    clock.idle_until(40)
    lapic.write(LVT_TIMER, VECTOR)
    assert clock.next_deadline() == 100
    assert advance(clock, 1000) == 1
    assert lapic.irr == {VECTOR}


def test_masked_lvt_counts_but_sets_no_irr() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock)
    lapic.write(TIMER_DIVIDE, 0b0011)
    lapic.write(LVT_TIMER, MASKED | PERIODIC | VECTOR)
    lapic.write(TIMER_INITIAL, 312_500)
    assert step(clock) == PERIOD_NS
    assert lapic.expirations == 1
    assert lapic.irr == set()
    assert lapic.read(IRR_BASE + 0x10) == 0
    assert not lapic.pending()
    assert lapic.acknowledge() is None
    assert clock.next_deadline() == 2 * PERIOD_NS  # still periodic
    lapic.write(LVT_TIMER, PERIODIC | VECTOR)  # unmask
    assert step(clock) == 2 * PERIOD_NS
    assert lapic.pending()


def test_zero_initial_count_stops_the_timer() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    lapic.write(TIMER_INITIAL, 0)
    assert clock.next_deadline() is None
    assert lapic.read(TIMER_CURRENT) == 0
    assert advance(clock, 100_000_000) == 0


def test_current_count_decreases_linearly_and_reloads() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)  # 16 ns per count
    assert lapic.read(TIMER_CURRENT) == 312_500
    for elapsed, count in [
        (16, 312_499),
        (17, 312_498),
        (32, 312_498),
        (16_000, 311_500),
        (2_500_000, 156_250),
        (4_999_984, 1),
        (4_999_999, 0),
    ]:
        clock.idle_until(elapsed)
        assert lapic.read(TIMER_CURRENT) == count, elapsed
    step(clock)  # the 5 ms reload
    assert lapic.read(TIMER_CURRENT) == 312_500
    clock.idle_until(PERIOD_NS + 16 * 100)
    assert lapic.read(TIMER_CURRENT) == 312_400
    assert lapic.read(TIMER_INITIAL) == 312_500


def test_one_shot_current_count_reaches_zero() -> None:
    clock = VirtualClock()
    lapic = LocalApic(clock)
    lapic.write(TIMER_DIVIDE, 0b1011)  # /1: 1 ns per count
    lapic.write(LVT_TIMER, VECTOR)
    lapic.write(TIMER_INITIAL, 1000)
    clock.idle_until(999)
    assert lapic.read(TIMER_CURRENT) == 1
    clock.idle_until(1000)
    assert lapic.read(TIMER_CURRENT) == 0
    clock.idle_until(5000)
    assert lapic.read(TIMER_CURRENT) == 0


def test_acknowledge_moves_irr_to_isr_and_eoi_pops_it() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    step(clock)
    assert lapic.read(IRR_BASE + 0x10) == 1
    assert lapic.read(ISR_BASE + 0x10) == 0
    assert lapic.acknowledge() == VECTOR
    assert lapic.read(IRR_BASE + 0x10) == 0
    assert lapic.read(ISR_BASE + 0x10) == 1
    assert not lapic.pending()
    assert lapic.acknowledge() is None
    lapic.write(EOI, 0)
    assert lapic.read(ISR_BASE + 0x10) == 0
    lapic.write(EOI, 0)  # EOI with nothing in service is harmless
    assert lapic.isr == []


def test_highest_vector_is_acknowledged_first() -> None:
    lapic = LocalApic(VirtualClock())
    lapic.irr |= {0x20, 0x41, 0xFE}
    assert lapic.read(IRR_BASE + 0x10) == 1
    assert lapic.read(IRR_BASE + 0x20) == 0b10
    assert lapic.read(IRR_BASE + 0x70) == 1 << 30
    assert [lapic.acknowledge() for _ in range(4)] == [0xFE, 0x41, 0x20, None]
    assert lapic.read(ISR_BASE + 0x70) == 1 << 30
    assert lapic.read(ISR_BASE + 0x20) == 0b10
    assert lapic.read(ISR_BASE + 0x10) == 1


def test_eoi_retires_the_highest_in_service_vector() -> None:
    # Intel SDM 10.8.5: an EOI clears the highest-priority bit in the ISR
    lapic = LocalApic(VirtualClock())
    lapic.irr.add(0x41)
    assert lapic.acknowledge() == 0x41
    lapic.irr.add(0x20)
    assert lapic.acknowledge() == 0x20
    lapic.write(EOI, 0)
    assert lapic.read(ISR_BASE + 0x20) == 0
    assert lapic.read(ISR_BASE + 0x10) == 1
    lapic.write(EOI, 0)
    assert lapic.read(ISR_BASE + 0x10) == 0


def test_reset_stops_the_timer() -> None:
    clock = VirtualClock()
    lapic = _axiomos(clock)
    step(clock)
    lapic.reset()
    assert clock.next_deadline() is None
    assert lapic.irr == set()
    assert lapic.expirations == 0
    assert lapic.read(LVT_TIMER) == MASKED
