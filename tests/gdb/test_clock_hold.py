"""While gdb holds the machine, guest time does not move, in either clock mode."""

from __future__ import annotations

import pytest

from emulator import clock as clock_mod
from emulator.clock import VirtualClock


def test_host_clock_excludes_time_held_by_the_debugger(monkeypatch: pytest.MonkeyPatch) -> None:
    host = [1_000_000_000]
    monkeypatch.setattr(clock_mod.time, "monotonic_ns", lambda: host[0])
    clock = VirtualClock("host")
    host[0] += 5_000
    assert clock.now_ns() == 5_000
    clock.hold()
    host[0] += 2_000_000_000  # two seconds at a breakpoint
    clock.release()
    assert clock.now_ns() == 5_000
    host[0] += 1_000
    assert clock.now_ns() == 6_000
    clock.release()  # a release without a hold changes nothing
    assert clock.now_ns() == 6_000


def test_icount_clock_is_unaffected_by_holding() -> None:
    clock = VirtualClock("icount")
    clock.end_slice(100)
    clock.hold()
    clock.release()
    assert clock.now_ns() == 800
