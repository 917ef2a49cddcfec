"""Deterministic guest time: tick rates, exact sleeps, byte-identical logs."""

from __future__ import annotations

import pytest

from emulator.testing import boot

TICK_HZ = {"x86_64": 200, "aarch64": 100}


def test_100_ticks_take_the_right_guest_time(arch: str) -> None:
    vm = boot(arch, append="/bin/t_idle 2000")
    kernel = vm.machine.kernel
    vm.machine.run(stop_when=lambda: kernel.ticks >= 100)
    assert kernel.ticks == 100
    period_ns = 1_000_000_000 // TICK_HZ[arch]
    now = vm.machine.clock.now_ns()
    assert 100 * period_ns <= now < 100 * period_ns + 1000  # within a microsecond


def test_one_guest_second_has_tick_hz_ticks(arch: str) -> None:
    vm = boot(arch, append="/bin/t_idle 2000")
    vm.run_for(1.0)
    assert vm.machine.kernel.ticks == TICK_HZ[arch]


def test_nanosleep_is_exact_in_guest_time(arch: str) -> None:
    vm = boot(arch, append="/bin/t_time")
    assert vm.run_to_end() == 0
    slept = int(vm.console.split("slept_ns=")[1].split()[0])
    # 100 ms plus the handful of instructions between the two clock reads
    assert 100_000_000 <= slept < 100_001_000


@pytest.mark.parametrize("program", ["/bin/t_sleepers", "/bin/t_cpuhog", "/bin/bpf_loader"])
def test_same_image_twice_gives_byte_identical_console(arch: str, program: str) -> None:
    logs = []
    for _ in range(2):
        vm = boot(arch, append=program)
        vm.run_to_end(timeout=3)
        logs.append(vm.raw)
    assert logs[0] == logs[1]
    assert len(logs[0]) > 1000


def test_host_clock_mode_runs(arch: str) -> None:
    vm = boot(arch, append="/bin/t_time", clock="host")
    assert vm.run_to_end(timeout=10) == 0
    assert "sleep >= 100 ms: OK" in vm.console
