"""How the benchmarks time things: many short samples, reported as best and median.

The machines these figures come from run each core at full or at about half speed in
phases of 0.1-1 s (another tenant on the sibling hardware thread; CPU time slows down
with wall time, so `process_time` does not help). A figure taken from one long run
lands in whichever phase it happens to hit, which made the same row differ by 2x
between back-to-back runs. Short samples (a few milliseconds each), many of them,
almost always include some taken at full speed: the best sample is the cost of the
code itself, the figure the targets are about (as `timeit` reports it), and the median
says how much the machine got in the way during the run. Slow phases can last a
second, so a figure keeps sampling for `WINDOW_S` of wall time, back to back. (Idle
gaps between samples made it worse: the first samples after a sleep run slow.)
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

WINDOW_S = 2.0  # wall time the samples of one figure are spread over


class Window:
    """Sampling goes on until at least `count` samples are taken and `window`
    seconds of wall time have passed (`more` is the loop condition)."""

    def __init__(self, count: int, window: float = WINDOW_S) -> None:
        self.count, self.taken = count, 0
        self.until = time.perf_counter() + window

    def more(self) -> bool:
        if self.taken < self.count or time.perf_counter() < self.until:
            self.taken += 1
            return True
        return False


@dataclasses.dataclass(frozen=True)
class Samples:
    """Per-unit costs (seconds per call, per switch, ...) of the samples of one figure."""

    values: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def __len__(self) -> int:
        return len(self.values)


def timed(
    fn: Callable[[], object],
    samples: int,
    units: int = 1,
    between: Callable[[], object] | None = None,
    window: float = WINDOW_S,
) -> Samples:
    """Timings of `fn()`, at least `samples` and for `window` seconds, each divided by
    the `units` of work one call does; `between` runs after each call, outside the
    timing (e.g. a consumer's work)."""
    values = []
    sampling = Window(samples, window)
    while sampling.more():
        start = time.perf_counter()
        fn()
        values.append((time.perf_counter() - start) / units)
        if between is not None:
            between()
    return Samples(tuple(values))


def repeated(
    fn: Callable[[], object], calls: int, samples: int, window: float = WINDOW_S
) -> Samples:
    """Seconds per call of `fn`, from batches of `calls` calls each (as `timed`)."""

    def batch() -> None:
        for _ in range(calls):
            fn()

    return timed(batch, samples, calls, window=window)


def alternating(
    setups: Sequence[Callable[[], Callable[[], object]]],
    calls: int,
    samples: int,
    window: float = WINDOW_S,
) -> list[Samples]:
    """Seconds per call for each of several configurations, sampled in turn (one
    batch of each per round, rounds as `timed` takes samples): a difference between
    two of them compares batches taken under the same conditions. A setup prepares
    its configuration (outside the timing) and returns the call to time."""
    values: list[list[float]] = [[] for _ in setups]
    sampling = Window(samples, window)
    while sampling.more():
        for i, setup in enumerate(setups):
            values[i].extend(repeated(setup(), calls, 1, window=0).values)
    return [Samples(tuple(v)) for v in values]


def difference(a: Samples, b: Samples) -> tuple[float, float]:
    """(best, median) of a - b, for two `alternating` figures: best against best, and
    the median of the per-round differences."""
    rounds = [x - y for x, y in zip(a.values, b.values, strict=True)]
    return a.best - b.best, statistics.median(rounds)


class MachineChunks:
    """Wall seconds per event of a running machine (a context switch, a syscall), one
    chunk of guest time per sample. One machine runs on from chunk to chunk, so boot,
    fork and power-off are outside every sample. `Machine.run(until_ns=...)` stops
    between slices, where a debugger would: the guest sees nothing of it. A first
    chunk sizes the others to about `per_chunk` events (guest time is exact, so every
    chunk does about the same work)."""

    PROBE_NS = 100_000

    def __init__(self, machine: Any, events: Callable[[], int], per_chunk: int) -> None:
        self.machine, self.events = machine, events
        _, done = self._chunk(self.PROBE_NS)
        if done == 0:
            raise RuntimeError("the guest did no counted work in a chunk")
        self.guest_ns = max(1, self.PROBE_NS * per_chunk // done)

    def _chunk(self, guest_ns: int) -> tuple[float, int]:
        machine = self.machine
        before = self.events()
        until = machine.clock.now_ns() + guest_ns
        start = time.perf_counter()
        machine.run(until_ns=until)
        wall = time.perf_counter() - start
        if machine.kernel.powered_off:
            raise RuntimeError("the guest ended during the measurement: run it longer")
        return wall, self.events() - before

    def sample(self) -> float:
        wall, done = self._chunk(self.guest_ns)
        return wall / max(done, 1)

    def samples(self, count: int, window: float = WINDOW_S) -> Samples:
        """At least `count` samples, for `window` seconds."""
        sampling, values = Window(count, window), []
        while sampling.more():
            values.append(self.sample())
        return Samples(tuple(values))
