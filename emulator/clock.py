"""The one clock that owns guest time.

`icount` mode (default, deterministic): time advances only with executed guest
instructions, `2**icount_shift` ns each (like QEMU's `-icount shift=N`), and jumps
straight to the next timer deadline when nothing is runnable. The same image and
options therefore give the same console log on every run and every machine.

`host` mode: guest time follows the host's monotonic clock (not reproducible).

Devices schedule work with `Timer`s; the run loop asks for the next deadline, sizes
the CPU slice to end exactly there, and fires expired timers between slices.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class SliceCounter(Protocol):
    """Something that knows how many instructions the running slice has executed."""

    def executed_in_slice(self) -> int: ...


class Timer:
    """A one-shot callback at an absolute guest time; re-arm it for periodic work."""

    __slots__ = ("_clock", "callback", "deadline", "_token")

    def __init__(self, clock: VirtualClock, callback: Callable[[int], None]) -> None:
        self._clock = clock
        self.callback = callback
        self.deadline: int | None = None
        self._token = 0

    def arm(self, deadline_ns: int) -> None:
        self.deadline = deadline_ns
        self._token += 1
        self._clock._push(self, self._token)

    def cancel(self) -> None:
        self.deadline = None
        self._token += 1


class VirtualClock:
    """Guest time in nanoseconds since power-on."""

    def __init__(self, mode: str = "icount", icount_shift: int = 3) -> None:
        if mode not in ("icount", "host"):
            raise ValueError(f"unknown clock mode {mode!r}")
        self.mode = mode
        self._host = mode == "host"  # tested on every clock read
        self.ns_per_insn = 1 << icount_shift
        self._base_ns = 0
        self._running: SliceCounter | None = None
        self._host_start = time.monotonic_ns()
        self._heap: list[tuple[int, int, int, Timer]] = []
        self._seq = itertools.count()
        self.instructions = 0  # total guest instructions retired (icount mode)
        self._held_at: int | None = None

    @property
    def deterministic(self) -> bool:
        return self.mode == "icount"

    def now_ns(self) -> int:
        if self._host:
            return time.monotonic_ns() - self._host_start
        running = self._running
        if running is not None:
            return self._base_ns + running.executed_in_slice() * self.ns_per_insn
        return self._base_ns

    # -------------------------------------------------------------- slices

    def begin_slice(self, cpu: SliceCounter) -> None:
        self._running = cpu

    def end_slice(self, executed: int) -> int:
        """Retire the slice's instructions; returns the guest time after them (the
        run loop charges the slice to its process: one call, not two, per slice)."""
        self._running = None
        if self._host:
            return time.monotonic_ns() - self._host_start
        self.instructions += executed
        base = self._base_ns = self._base_ns + executed * self.ns_per_insn
        return base

    def begin_budgeted_slice(self, cpu: SliceCounter, deadline_ns: int | None, cap: int) -> int:
        """`begin_slice(cpu)` then `budget_until(deadline_ns, cap)`: one call, not three
        (with `executed_in_slice`), on every icount slice."""
        self._running = cpu
        if deadline_ns is None:
            return cap
        if self._host:
            now = self.now_ns()
        else:  # what the CPU reports here still shapes the slice (see its docstring)
            now = self._base_ns + cpu.executed_in_slice() * self.ns_per_insn
        fits = -(-(deadline_ns - now) // self.ns_per_insn)
        fits = cap if fits > cap else fits
        return fits if fits > 1 else 1

    def budget_until(self, deadline_ns: int | None, cap: int) -> int:
        """Instructions that fit before `deadline_ns` (at least 1, at most `cap`)."""
        if deadline_ns is None:
            return cap
        running = self._running  # `now_ns`, inlined (once per slice)
        if self._host:
            now = self.now_ns()
        elif running is not None:
            now = self._base_ns + running.executed_in_slice() * self.ns_per_insn
        else:
            now = self._base_ns
        fits = -(-(deadline_ns - now) // self.ns_per_insn)
        # max(1, min(cap, fits)), without the builtins' argument parsing: every slice
        fits = cap if fits > cap else fits
        return fits if fits > 1 else 1

    def idle_until(self, deadline_ns: int) -> None:
        """Nothing runnable: skip (icount) or sleep (host) to the deadline."""
        if self.mode == "host":
            delay = deadline_ns - self.now_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
        elif deadline_ns > self._base_ns:
            self._base_ns = deadline_ns

    def hold(self) -> None:
        """A debugger holds the machine: host-mode guest time stops too."""
        self._held_at = time.monotonic_ns()

    def release(self) -> None:
        """The debugger resumed: host time spent held is not guest time."""
        if self._held_at is not None:
            self._host_start += time.monotonic_ns() - self._held_at
            self._held_at = None

    def add_ns(self, ns: int) -> None:
        """Charge modelled time for work that is not guest instructions (device I/O)."""
        if self.mode == "icount":
            self._base_ns += ns

    # -------------------------------------------------------------- timers

    def timer(self, callback: Callable[[int], None]) -> Timer:
        return Timer(self, callback)

    def _push(self, timer: Timer, token: int) -> None:
        assert timer.deadline is not None
        heapq.heappush(self._heap, (timer.deadline, next(self._seq), token, timer))

    # The run loop asks for the next deadline and fires expired timers on every
    # iteration, so both drop cancelled entries inline rather than through a helper.

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap and heap[0][2] != heap[0][3]._token:  # cancelled or re-armed
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def fire_expired(self) -> int:
        """Run the callbacks of every timer whose deadline has passed, in order."""
        fired = 0
        heap = self._heap
        while True:
            while heap and heap[0][2] != heap[0][3]._token:  # cancelled or re-armed
                heapq.heappop(heap)
            if not heap:
                return fired
            # Between slices in icount mode the time is the base: no `now_ns` call.
            now = self._base_ns if self._running is None and not self._host else self.now_ns()
            if heap[0][0] > now:
                return fired
            deadline, _seq, _token, timer = heapq.heappop(heap)
            timer.deadline = None
            timer._token += 1
            timer.callback(deadline)
            fired += 1
