"""A pure SYS_ENTER/SYS_EXIT program on a booted machine runs on the hooks' fast path
(`BpfSubsystem.fast_path`); the guest run, its console and the program's counters are
byte-identical to the same run on the general path (`run_hook`)."""

from __future__ import annotations

import pytest

from emulator.testing import boot
from kernel.abi import AttachType
from kernel.bpf.isa.asm import assemble_bytes
from kernel.bpf_attach.registry import BpfSubsystem


def _run(arch: str, fast: bool) -> tuple[str, list[tuple[int, int, int, int]], int]:
    vm = boot(arch, append="/bin/t_hello")
    bpf = vm.machine.kernel.bpf
    enter = bpf.load(assemble_bytes("mov r0, 5\nexit"), "enter", AttachType.SYS_ENTER)
    leave = bpf.load(assemble_bytes("mov r0, 0\nexit"), "leave", AttachType.SYS_EXIT)
    bpf.attach(AttachType.SYS_ENTER, enter.id)
    bpf.attach(AttachType.SYS_EXIT, leave.id)
    runners = vars(vm.machine.kernel.hooks)
    assert ("sys_enter" in runners, "sys_exit" in runners) == (fast, fast)
    status = vm.run_to_end()
    counters = [(p.runs, p.failures, p.insns_executed, p.run_time_ns) for p in bpf.programs]
    return vm.console, counters, status


def test_fast_path_run_is_identical_to_the_general_path(
    arch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, counters, status = _run(arch, True)
    assert status == 0
    runs = counters[0][0]
    assert runs > 3 and 3 < counters[1][0] < runs  # exit(2) never returns
    assert console.count("Syscall Trace [id=0] syscall_nr: 5") == runs
    assert "SYS_EXIT BPF Hook" not in console  # R0 == 0: no line
    monkeypatch.setattr(BpfSubsystem, "fast_path", lambda self, kind, general: None)
    assert _run(arch, False) == (console, counters, status)
