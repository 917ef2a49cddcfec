"""The bench's sampling: best and median of the samples, per-round differences, and
chunked runs of a machine that leave the guest exactly as one uninterrupted run."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from bench.sampling import MachineChunks, Samples, Window, alternating, difference, timed
from emulator.chardev import MemoryBackend
from emulator.config import ARCHES, MachineConfig
from emulator.machine import Machine


def test_best_and_median() -> None:
    samples = Samples((3.0, 1.0, 2.0, 10.0))
    assert (samples.best, samples.median, len(samples)) == (1.0, 2.5, 4)


def test_difference_pairs_rounds() -> None:
    a, b = Samples((5.0, 9.0, 6.0)), Samples((1.0, 2.0, 4.0))
    # best against best; median of the per-round differences 4, 7, 2
    assert difference(a, b) == (5.0 - 1.0, 4.0)


def test_window_takes_the_count_and_the_time() -> None:
    start = time.perf_counter()
    sampling = Window(3, window=0.05)
    taken = 0
    while sampling.more():
        taken += 1
    assert taken >= 3 and time.perf_counter() - start >= 0.05
    quick = Window(4, window=0)
    assert [quick.more() for _ in range(6)] == [True] * 4 + [False] * 2


def test_timed_divides_by_units_and_runs_between_outside() -> None:
    calls: list[str] = []
    samples = timed(
        lambda: calls.append("fn"), 3, units=4, between=lambda: calls.append("b"), window=0
    )
    assert calls == ["fn", "b"] * 3
    assert len(samples) == 3 and all(v >= 0 for v in samples.values)


def test_alternating_samples_each_setup_in_turn() -> None:
    order: list[str] = []

    def setup(name: str) -> Callable[[], Callable[[], None]]:
        def prepare() -> Callable[[], None]:
            order.append(f"setup {name}")
            return lambda: order.append(name)

        return prepare

    first, second = alternating([setup("a"), setup("b")], calls=2, samples=2, window=0)
    assert order == ["setup a", "a", "a", "setup b", "b", "b"] * 2
    assert len(first) == len(second) == 2


@pytest.mark.parametrize("arch", ARCHES)
def test_chunked_run_is_invisible_to_the_guest(arch: str) -> None:
    def boot() -> tuple[Machine, MemoryBackend]:
        backend = MemoryBackend()
        machine = Machine(MachineConfig(arch=arch, cmdline="init=/bin/b_pingpong 1000"), backend)
        machine.boot()
        return machine, backend

    whole, whole_log = boot()
    whole.run(until_ns=60 * 10**9)
    chunked, chunked_log = boot()
    chunks = MachineChunks(chunked, lambda: chunked.kernel.sched.switches, 50)
    samples = chunks.samples(4, window=0)
    assert len(samples) == 4 and samples.best > 0
    chunked.run(until_ns=60 * 10**9)
    assert re.search(rb"\npingpong 1000\r?\n", whole_log.data)
    assert chunked_log.data == whole_log.data
    assert chunked.clock.now_ns() == whole.clock.now_ns()
    assert chunked.kernel.sched.switches == whole.kernel.sched.switches == 2001


@pytest.mark.parametrize("arch", ARCHES)
def test_chunks_refuse_a_guest_that_ends(arch: str) -> None:
    machine = Machine(MachineConfig(arch=arch, cmdline="init=/bin/b_pingpong 20"), MemoryBackend())
    machine.boot()
    with pytest.raises(RuntimeError, match="the guest ended"):
        MachineChunks(machine, lambda: machine.kernel.sched.switches, 10_000).samples(3, window=0)
