"""A woken process re-issues its blocking syscall in the kernel (no second trap)
unless something watches instructions, in which case the CPU re-executes the trap.
Both ways the guest sees the same results at the same guest times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from unicorn import Uc

from emulator.chardev import MemoryBackend
from emulator.config import MachineConfig
from emulator.cpu import base
from emulator.machine import Machine


def _run(arch: str, tmp: Path | None, monkeypatch: pytest.MonkeyPatch) -> tuple:
    traps = []
    original = base.GuestCpu._on_interrupt

    def counting(self: base.GuestCpu, uc: Uc, intno: int, data: object) -> None:
        traps.append(intno)
        return original(self, uc, intno, data)

    monkeypatch.setattr(base.GuestCpu, "_on_interrupt", counting)
    options: dict[str, Any] = {"trace": tmp / "trace.json"} if tmp is not None else {}
    backend = MemoryBackend()
    config = MachineConfig(arch=arch, cmdline="init=/bin/b_pingpong 40", **options)
    machine = Machine(config, backend)
    machine.boot()
    machine.run(until_ns=60 * 10**9)
    kernel = machine.kernel
    observed = (
        backend.data,
        machine.clock.instructions,
        machine.clock.now_ns(),
        kernel.syscall_count,
        kernel.sched.switches,
        kernel.exit_status,
    )
    machine.close()
    return observed, len(traps)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_restart_in_kernel_matches_re_executing_the_trap(
    arch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, fast_traps = _run(arch, None, monkeypatch)
    watched, watched_traps = _run(arch, tmp_path, monkeypatch)  # a tracer: the trap re-runs
    assert fast == watched
    switches = fast[4]
    assert switches > 80 and fast[5] == 0
    assert watched_traps - fast_traps >= switches - 2  # one trap saved per blocking read
