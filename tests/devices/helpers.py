"""Shared helpers: a fake slice counter and a run loop that only idles between timers."""

from __future__ import annotations

from emulator.clock import VirtualClock
from emulator.devices.generic_timer import GenericTimer


class FakeCounter:
    """Stands in for a CPU during a slice: reports a settable instruction count."""

    def __init__(self, executed: int = 0) -> None:
        self.executed = executed

    def executed_in_slice(self) -> int:
        return self.executed


def advance(clock: VirtualClock, until_ns: int) -> int:
    """Idle to `until_ns`, stopping at every timer deadline on the way (as the run loop
    does when nothing is runnable). Returns the number of timer callbacks run."""
    fired = 0
    while True:
        deadline = clock.next_deadline()
        if deadline is None or deadline > until_ns:
            break
        clock.idle_until(deadline)
        fired += clock.fire_expired()
    clock.idle_until(until_ns)
    return fired + clock.fire_expired()


def step(clock: VirtualClock) -> int:
    """Jump to the next timer deadline, fire it, and return that deadline."""
    deadline = clock.next_deadline()
    assert deadline is not None, "no timer armed"
    clock.idle_until(deadline)
    clock.fire_expired()
    return deadline


def guard_timer(timer: GenericTimer, limit: int = 1000) -> GenericTimer:
    """Turn a timer that keeps re-firing at a past deadline into a failure, not a hang."""
    inner = timer._timer.callback
    calls = 0

    def guarded(deadline: int) -> None:
        nonlocal calls
        calls += 1
        assert calls <= limit, f"timer callback re-entered {calls} times at {deadline} ns"
        inner(deadline)

    timer._timer.callback = guarded
    return timer
