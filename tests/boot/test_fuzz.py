"""The guest syscall fuzzer (userspace/testprogs/t_fuzz.c) in CI: seeded, a few
thousand random syscalls with hostile pointers and sizes and random sys_bpf attrs per
run. The kernel model must neither panic nor raise, the run must end normally, and
the host process must stay within a memory bound however the guest behaves."""

from __future__ import annotations

import os

import pytest

from emulator.machine import RunState
from emulator.testing import boot

CALLS = 3000
GUEST_MEMORY = 64 << 20
HOST_GROWTH_BOUND = 256 << 20  # the -m budget plus the model's own bookkeeping


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzzer_cannot_hurt_the_kernel_or_the_host(arch: str, seed: int) -> None:
    before = _rss()
    vm = boot(arch, append=f"/bin/t_fuzz {seed} {CALLS}", memory=GUEST_MEMORY)
    status = vm.run_to_end(timeout=60)
    growth = _rss() - before
    console = vm.console
    assert vm.state is RunState.POWERED_OFF, console[-2000:]
    assert status == 0, console[-2000:]
    assert "KERNEL PANIC" not in console and "Traceback" not in console
    assert f"fuzz: seed={seed} calls={CALLS} " in console and "fuzz: done\n" in console
    kernel = vm.machine.kernel
    assert not kernel.panicked
    assert kernel.account.used <= kernel.account.limit == GUEST_MEMORY
    assert growth < HOST_GROWTH_BOUND, f"host grew by {growth >> 20} MiB"


def test_fuzzer_is_deterministic() -> None:
    runs = []
    for _ in range(2):
        vm = boot("x86_64", append=f"/bin/t_fuzz 3 {CALLS // 3}", memory=GUEST_MEMORY)
        assert vm.run_to_end(timeout=60) == 0
        runs.append(vm.raw)
    assert runs[0] == runs[1]
