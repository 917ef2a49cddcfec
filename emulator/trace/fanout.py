"""`Tracers`: one KernelTracer that forwards each event family only to the tracers
that asked for it (so a text log without `syscall` never sees syscalls)."""

from __future__ import annotations

from typing import Any

from kernel.tracer import KernelTracer

FLAGS = ("syscalls", "sched", "irq", "bpf", "faults")


class Tracers(KernelTracer):
    def __init__(self, tracers: list[KernelTracer]) -> None:
        self.tracers = tracers
        self.refresh()

    def refresh(self) -> None:
        """Recompute the flags (after a member's items changed)."""
        self._by: dict[str, list[KernelTracer]] = {
            f: [t for t in self.tracers if getattr(t, f)] for f in FLAGS
        }
        for flag in FLAGS:
            setattr(self, flag, bool(self._by[flag]))

    def syscall_enter(self, proc: Any, nr: int, args: tuple[int, ...]) -> None:
        for t in self._by["syscalls"]:
            t.syscall_enter(proc, nr, args)

    def syscall_exit(self, proc: Any, nr: int, result: int | None) -> None:
        for t in self._by["syscalls"]:
            t.syscall_exit(proc, nr, result)

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        for t in self._by["sched"]:
            t.sched_switch(prev, nxt)

    def sched_block(self, proc: Any) -> None:
        for t in self._by["sched"]:
            t.sched_block(proc)

    def sched_wake(self, proc: Any) -> None:
        for t in self._by["sched"]:
            t.sched_wake(proc)

    def cpu_running(self, proc: Any | None, until_ns: int | None = None) -> None:
        for t in self._by["sched"]:
            t.cpu_running(proc, until_ns)  # type: ignore[attr-defined]

    def interrupt(self, irq: int, timer: bool) -> None:
        for t in self._by["irq"]:
            t.interrupt(irq, timer)

    def iio_sample(self, payload: bytes) -> None:
        for t in self._by["irq"]:
            t.iio_sample(payload)

    def bpf_run(self, *args: Any) -> None:
        for t in self._by["bpf"]:
            t.bpf_run(*args)

    def guest_fault(self, proc: Any, message: str) -> None:
        for t in self._by["faults"]:
            t.guest_fault(proc, message)
