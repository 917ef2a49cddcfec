"""The per-event hooks' fast path (`BpfSubsystem.fast_path`): one pure program and no
BPF tracer. It must be indistinguishable from `run_hook`, the general path: the same
counters, log lines, errors and budget exhaustion, and it must give way to the general
path whenever its case does not hold (a tracer wanting BPF runs, a second program, a
program that reads memory)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kernel.abi import AttachType
from kernel.bpf.isa.asm import assemble_bytes
from kernel.bpf.runtime.env import NullHelperEnv
from kernel.bpf_attach import registry
from kernel.bpf_attach.hooks import BpfHooks
from kernel.bpf_attach.registry import BpfSubsystem
from kernel.tracer import KernelTracer

RET7 = "mov r0, 7\nexit"
RET0 = "mov r0, 0\nexit"
NEG = "mov r0, -2\nexit"
LOOP = "mov r0, 0\nmov r1, 40\nl: add r0, 1\nsub r1, 1\njne r1, 0, l\nexit"  # 123 insns
READS_NR = "ldxdw r2, [r1+0]\nldxdw r3, [r1+8]\nmov r4, r2\nadd r4, 8\nmov r0, 0\n"
READS_NR += "jgt r4, r3, out\nldxdw r0, [r2+0]\nout:\nexit"
HOOKS = [AttachType.SYS_ENTER, AttachType.SYS_EXIT, AttachType.SCHED_SWITCH]


class BpfRecorder(KernelTracer):
    bpf = True

    def __init__(self) -> None:
        self.runs: list[tuple] = []

    def bpf_run(self, hook: Any, loaded: Any, r0: Any, steps: int, cost: int, *rest: Any) -> None:
        self.runs.append((hook, loaded.id, r0, steps, cost, *rest))


def _subsystem() -> tuple[BpfSubsystem, list[tuple[str, str, str]]]:
    logged: list[tuple[str, str, str]] = []
    bpf = BpfSubsystem(NullHelperEnv(), lambda *a: logged.append(a))
    bpf.ns_per_insn = 4
    return bpf, logged


def _state(bpf: BpfSubsystem, logged: list) -> tuple:
    progs = [(p.runs, p.failures, p.insns_executed, p.run_time_ns) for p in bpf.programs]
    return progs, list(logged), bpf.vm.last_steps


def _both(src: str, kind: AttachType, runs: int = 3) -> tuple[tuple, tuple]:
    """(fast path state, run_hook state) after `runs` hook runs of one program."""
    out = []
    for fast in (True, False):
        bpf, logged = _subsystem()
        loaded = bpf.load(assemble_bytes(src), "p", kind)
        bpf.attach(kind, loaded.id)
        run = bpf.fast_path(kind, lambda a, b: pytest.fail("general path taken"))
        for _ in range(runs):
            if fast:
                assert run is not None
                run(1, 2)
            else:
                bpf.run_hook(kind, None, bytearray(64))
        out.append(_state(bpf, logged))
    return out[0], out[1]


@pytest.mark.parametrize("kind", HOOKS)
@pytest.mark.parametrize("src", [RET0, RET7, NEG])
def test_fast_path_matches_run_hook(src: str, kind: AttachType) -> None:
    fast, general = _both(src, kind)
    assert fast == general
    assert fast[0] == [(3, 0, 6, 24)]


def test_fast_path_logs_as_run_hook() -> None:
    fast, _ = _both(NEG, AttachType.SYS_ENTER, runs=1)
    assert fast[1] == [("INFO", "kernel::bpf", "Syscall Trace [id=0] syscall_nr: -2")]
    fast, _ = _both(RET7, AttachType.SYS_EXIT, runs=1)
    assert fast[1] == [("INFO", "kernel::bpf", "SYS_EXIT BPF Hook [id=0] returned: 7")]


def test_budget_exhaustion_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "RUN_BUDGET", 50)
    fast, general = _both(LOOP, AttachType.SYS_ENTER, runs=2)
    assert fast == general
    message = "Syscall Trace [id=0] failed: pc 2: instruction budget of 50 exhausted"
    assert fast[1] == [("ERROR", "kernel::bpf", message)] * 2
    assert fast[0] == [(2, 2, 100, 400)] and fast[2] == 50


def test_an_internal_error_is_a_failed_run_on_both_paths() -> None:
    out = []
    for fast in (True, False):
        bpf, logged = _subsystem()
        loaded = bpf.load(assemble_bytes(RET0), "p", AttachType.SYS_ENTER)

        def broken(m: Any, r1: int, r2: int, budget: int) -> int:
            m.left = budget - 1
            raise ZeroDivisionError("bug")

        loaded.program._compiled = broken  # type: ignore[assignment]
        bpf.attach(AttachType.SYS_ENTER, loaded.id)
        run = bpf.fast_path(AttachType.SYS_ENTER, lambda a, b: None)
        assert run is not None
        run(0, 0) if fast else bpf.run_hook(AttachType.SYS_ENTER, None, None)
        out.append(_state(bpf, logged))
    assert out[0] == out[1]
    message = "Syscall Trace [id=0] failed: pc -1: internal error: ZeroDivisionError: bug"
    assert out[0] == ([(1, 1, 1, 4)], [("ERROR", "kernel::bpf", message)], 1)


def test_no_fast_path_for_two_programs_a_reader_or_the_logging_hooks() -> None:
    bpf, _ = _subsystem()
    pure = bpf.load(assemble_bytes(RET0), "pure", AttachType.SYS_ENTER)
    other = bpf.load(assemble_bytes(RET7), "other", AttachType.SYS_ENTER)
    reader = bpf.load(assemble_bytes(READS_NR), "reader", AttachType.SYS_ENTER)
    never = lambda a, b: None  # noqa: E731
    assert bpf.fast_path(AttachType.SYS_ENTER, never) is None  # nothing attached
    bpf.attach(AttachType.SYS_ENTER, pure.id)
    assert bpf.fast_path(AttachType.SYS_ENTER, never) is not None
    bpf.attach(AttachType.SYS_ENTER, other.id)
    assert bpf.fast_path(AttachType.SYS_ENTER, never) is None
    bpf.detach(AttachType.SYS_ENTER, pure.id)
    bpf.detach(AttachType.SYS_ENTER, other.id)
    bpf.attach(AttachType.SYS_ENTER, reader.id)
    assert bpf.fast_path(AttachType.SYS_ENTER, never) is None
    iio = bpf.load(assemble_bytes(RET0), "iio")
    bpf.attach(AttachType.IIO, iio.id)  # logs on R0 == 0 too: always run_hook
    assert bpf.fast_path(AttachType.IIO, never) is None


def test_a_bpf_tracer_takes_the_general_path_and_a_plain_one_does_not() -> None:
    bpf, logged = _subsystem()
    loaded = bpf.load(assemble_bytes(RET7), "p", AttachType.SYS_ENTER)
    bpf.attach(AttachType.SYS_ENTER, loaded.id)
    general: list[tuple] = []
    run = bpf.fast_path(AttachType.SYS_ENTER, lambda a, b: general.append((a, b)))
    assert run is not None
    run(1, 2)
    recorder = bpf.tracer = BpfRecorder()  # the emulator installs a new tracer object
    run(3, 4)
    bpf.run_hook(AttachType.SYS_ENTER, None, None)  # what the general path does
    assert general == [(3, 4)]
    assert recorder.runs == [(AttachType.SYS_ENTER, 0, 7, 2, 8, [], None)]
    bpf.tracer = KernelTracer()  # tracing off again: back on the fast path
    run(5, 6)
    assert general == [(3, 4)]
    assert bpf.programs[0].runs == 3 and len(logged) == 3


class _Account:
    def charge(self, nbytes: int) -> None:
        pass


def _hooks() -> tuple[BpfHooks, list]:
    logged: list = []
    kernel = SimpleNamespace(
        log=SimpleNamespace(log=lambda *a: logged.append(a)),
        clock=SimpleNamespace(ns_per_insn=2),
        tracer=KernelTracer(),
        account=_Account(),
    )
    hooks = BpfHooks()
    hooks.init_bpf(kernel)
    return hooks, logged


def test_hooks_install_the_fast_path_on_attach_and_drop_it_on_detach() -> None:
    hooks, logged = _hooks()
    bpf = hooks.bpf
    assert bpf is not None
    assert "sys_enter" not in vars(hooks)
    pure = bpf.load(assemble_bytes(NEG), "pure", AttachType.SYS_ENTER)
    reader = bpf.load(assemble_bytes(READS_NR), "reader", AttachType.SYS_ENTER)
    bpf.attach(AttachType.SYS_ENTER, pure.id)
    assert hooks.sys_enter_active and "sys_enter" in vars(hooks)
    hooks.sys_enter(1, (0, 0, 0, 0, 0, 0))
    bpf.attach(AttachType.SYS_ENTER, reader.id)  # two programs: the general path
    assert "sys_enter" not in vars(hooks)
    hooks.sys_enter(1, (0, 0, 0, 0, 0, 0))
    bpf.detach(AttachType.SYS_ENTER, reader.id)
    assert "sys_enter" in vars(hooks)
    hooks.sys_enter(1, (0, 0, 0, 0, 0, 0))
    bpf.detach(AttachType.SYS_ENTER, pure.id)
    assert not hooks.sys_enter_active and "sys_enter" not in vars(hooks)
    assert [p.runs for p in bpf.programs] == [3, 1]
    assert [p.insns_executed for p in bpf.programs] == [6, 8]
    assert [p.run_time_ns for p in bpf.programs] == [12, 16]
    line = ("INFO", "kernel::bpf", "Syscall Trace [id=0] syscall_nr: -2")
    read = ("INFO", "kernel::bpf", "Syscall Trace [id=1] syscall_nr: 1")  # the payload's nr
    assert logged == [line, line, read, line]
