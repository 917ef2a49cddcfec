"""VirtualClock and Timer: ordering, re-arming, slices, budgets, modes."""

from __future__ import annotations

import pytest

from emulator.clock import VirtualClock

from .helpers import FakeCounter, advance


def _recorder(log: list[tuple[str, int]], name: str):
    return lambda deadline: log.append((name, deadline))


def test_timers_fire_in_deadline_order_with_ties_in_arm_order() -> None:
    clock = VirtualClock()
    log: list[tuple[str, int]] = []
    for name, deadline in (("a", 300), ("b", 100), ("c", 200), ("d", 100), ("e", 100)):
        clock.timer(_recorder(log, name)).arm(deadline)
    clock.idle_until(300)
    assert clock.fire_expired() == 5
    assert log == [("b", 100), ("d", 100), ("e", 100), ("c", 200), ("a", 300)]


def test_only_expired_timers_fire() -> None:
    clock = VirtualClock()
    log: list[tuple[str, int]] = []
    clock.timer(_recorder(log, "early")).arm(100)
    late = clock.timer(_recorder(log, "late"))
    late.arm(200)
    clock.idle_until(199)
    assert clock.fire_expired() == 1
    assert log == [("early", 100)]
    assert clock.next_deadline() == 200
    assert late.deadline == 200
    clock.idle_until(200)
    assert clock.fire_expired() == 1
    assert log == [("early", 100), ("late", 200)]
    assert late.deadline is None
    assert clock.next_deadline() is None


def test_timer_in_the_past_fires_with_its_own_deadline() -> None:
    clock = VirtualClock()
    clock.idle_until(1000)
    log: list[tuple[str, int]] = []
    clock.timer(_recorder(log, "t")).arm(400)
    assert clock.fire_expired() == 1
    assert log == [("t", 400)]


def test_rearming_replaces_the_previous_deadline() -> None:
    clock = VirtualClock()
    log: list[tuple[str, int]] = []
    timer = clock.timer(_recorder(log, "t"))
    timer.arm(100)
    timer.arm(500)
    assert timer.deadline == 500
    assert clock.next_deadline() == 500
    clock.idle_until(100)
    assert clock.fire_expired() == 0
    clock.idle_until(500)
    assert clock.fire_expired() == 1
    assert log == [("t", 500)]


def test_rearming_earlier_than_before() -> None:
    clock = VirtualClock()
    log: list[tuple[str, int]] = []
    timer = clock.timer(_recorder(log, "t"))
    timer.arm(900)
    timer.arm(50)
    assert clock.next_deadline() == 50
    assert advance(clock, 2000) == 1
    assert log == [("t", 50)]


def test_periodic_rearm_from_the_callback() -> None:
    clock = VirtualClock()
    seen: list[int] = []

    def tick(deadline: int) -> None:
        seen.append(deadline)
        timer.arm(deadline + 1000)

    timer = clock.timer(tick)
    timer.arm(1000)
    # one idle jump over five periods: the callback chain catches up in order
    clock.idle_until(5000)
    assert clock.fire_expired() == 5
    assert seen == [1000, 2000, 3000, 4000, 5000]
    assert clock.next_deadline() == 6000


def test_cancel() -> None:
    clock = VirtualClock()
    log: list[tuple[str, int]] = []
    timer = clock.timer(_recorder(log, "t"))
    other = clock.timer(_recorder(log, "o"))
    timer.arm(100)
    other.arm(300)
    timer.cancel()
    assert timer.deadline is None
    assert clock.next_deadline() == 300
    clock.idle_until(10_000)
    assert clock.fire_expired() == 1
    assert log == [("o", 300)]
    # a cancelled timer can be armed again
    timer.arm(20_000)
    assert advance(clock, 20_000) == 1
    assert log == [("o", 300), ("t", 20_000)]


def test_budget_until_rounds_up_to_whole_instructions() -> None:
    clock = VirtualClock(icount_shift=3)  # 8 ns per instruction
    assert clock.budget_until(None, 1000) == 1000
    assert clock.budget_until(80, 1000) == 10
    assert clock.budget_until(81, 1000) == 11
    assert clock.budget_until(87, 1000) == 11
    assert clock.budget_until(88, 1000) == 11
    assert clock.budget_until(89, 1000) == 12
    assert clock.budget_until(1, 1000) == 1


def test_budget_until_is_at_least_one_and_capped() -> None:
    clock = VirtualClock(icount_shift=3)
    clock.idle_until(1000)
    assert clock.budget_until(1000, 50) == 1  # deadline now
    assert clock.budget_until(10, 50) == 1  # deadline in the past
    assert clock.budget_until(1001, 50) == 1
    assert clock.budget_until(1017, 50) == 3
    assert clock.budget_until(1_000_000_000, 5000) == 5000
    assert clock.budget_until(1000 + 8 * 5000, 5000) == 5000
    assert clock.budget_until(1000 + 8 * 4999, 5000) == 4999


def test_budget_until_counts_from_the_running_slice() -> None:
    clock = VirtualClock(icount_shift=3)
    counter = FakeCounter(5)
    clock.begin_slice(counter)
    assert clock.budget_until(80, 1000) == 5
    counter.executed = 9
    assert clock.budget_until(80, 1000) == 1


def test_idle_until_jumps_exactly_and_never_backwards() -> None:
    clock = VirtualClock()
    clock.idle_until(12_345)
    assert clock.now_ns() == 12_345
    clock.idle_until(100)
    assert clock.now_ns() == 12_345
    clock.idle_until(12_346)
    assert clock.now_ns() == 12_346
    assert clock.instructions == 0


def test_now_ns_during_a_slice_uses_the_counter() -> None:
    clock = VirtualClock(icount_shift=3)
    clock.idle_until(1000)
    counter = FakeCounter()
    clock.begin_slice(counter)
    assert clock.now_ns() == 1000
    counter.executed = 7
    assert clock.now_ns() == 1056
    counter.executed = 100
    assert clock.now_ns() == 1800
    clock.end_slice(100)
    assert clock.now_ns() == 1800
    assert clock.instructions == 100
    counter.executed = 5000  # no longer consulted
    assert clock.now_ns() == 1800


def test_timers_expire_against_slice_time() -> None:
    clock = VirtualClock(icount_shift=0)
    log: list[tuple[str, int]] = []
    clock.timer(_recorder(log, "t")).arm(50)
    counter = FakeCounter(49)
    clock.begin_slice(counter)
    assert clock.fire_expired() == 0
    counter.executed = 50
    assert clock.fire_expired() == 1
    assert log == [("t", 50)]


@pytest.mark.parametrize(("shift", "ns"), [(0, 1), (1, 2), (3, 8), (5, 32), (10, 1024)])
def test_icount_shift(shift: int, ns: int) -> None:
    clock = VirtualClock(icount_shift=shift)
    assert clock.ns_per_insn == ns
    clock.begin_slice(FakeCounter(3))
    assert clock.now_ns() == 3 * ns
    clock.end_slice(3)
    clock.begin_slice(FakeCounter(0))
    clock.end_slice(4)
    assert clock.now_ns() == 7 * ns
    assert clock.instructions == 7


def test_default_shift_is_8ns_and_add_ns_charges_time() -> None:
    clock = VirtualClock()
    assert clock.deterministic is True
    assert clock.ns_per_insn == 8
    clock.add_ns(20_000)
    assert clock.now_ns() == 20_000
    assert clock.instructions == 0


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown clock mode"):
        VirtualClock(mode="wallclock")


def test_host_mode_is_monotonic_and_accepts_the_run_loop_calls() -> None:
    clock = VirtualClock(mode="host")
    assert clock.deterministic is False
    readings = [clock.now_ns()]
    clock.begin_slice(FakeCounter(1_000_000))
    readings.append(clock.now_ns())
    assert clock.budget_until(None, 77) == 77
    assert clock.budget_until(readings[-1] - 1, 77) == 1  # deadline already passed
    clock.end_slice(1_000_000)
    assert clock.instructions == 0  # host time is not instruction time
    clock.add_ns(10**12)  # no effect in host mode
    readings.append(clock.now_ns())
    target = readings[-1] + 2_000_000
    clock.idle_until(target)
    readings.append(clock.now_ns())
    clock.idle_until(0)  # already passed: returns at once
    readings.append(clock.now_ns())
    assert readings == sorted(readings)
    assert readings[3] >= target
    assert readings[2] < 10**12  # add_ns did not move host time
    fired: list[int] = []
    clock.timer(fired.append).arm(readings[-1])
    assert clock.fire_expired() == 1
    assert fired == [readings[-1]]
