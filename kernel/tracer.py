"""The kernel's observer interface: what happened, never how it is written down.

The kernel reports events (syscalls, scheduling, interrupts, BPF runs, faults) to a
`KernelTracer`. The base class is the null tracer: every flag is False and every
method does nothing, so with tracing off the kernel pays one attribute test per
event site. The emulator subclasses it (emulator/trace/) to write Perfetto JSON or
`-d` text; the kernel knows no file formats and never imports the emulator.

Flags are read on hot paths and may change at run time (the monitor's `log`):
`syscalls` guards syscall entry/exit, `sched` switches/blocks/wakes, `irq`
interrupts and IIO samples, `bpf` program runs, `faults` guest errors.
"""

from __future__ import annotations

from typing import Any


class KernelTracer:
    """Null tracer; subclasses override what they record and set the flags."""

    syscalls = False
    sched = False
    irq = False
    bpf = False
    faults = False

    def __init__(self) -> None:
        # The flags again as instance attributes: the trap path tests them on every
        # syscall, and CPython 3.11 reads an instance's own attribute at a fixed slot
        # but a class attribute through a full lookup each time. (Subclasses that set
        # their flags without calling this still fall back to the class values.)
        self.syscalls = self.sched = self.irq = self.bpf = self.faults = False

    def syscall_enter(self, proc: Any, nr: int, args: tuple[int, ...]) -> None:
        """Top of `Trap.syscall`, before dispatch (also when a blocked syscall restarts)."""

    def syscall_exit(self, proc: Any, nr: int, result: int | None) -> None:
        """End of `Trap.syscall`: the result for the guest, or None (blocked, exited, exec'd)."""

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        """The scheduler picked a different process than the one that ran last."""

    def sched_block(self, proc: Any) -> None:
        """`proc` left the run queue to wait (a blocking syscall or a sleep)."""

    def sched_wake(self, proc: Any) -> None:
        """`proc`'s wait ended; it is runnable again."""

    def interrupt(self, irq: int, timer: bool) -> None:
        """IRQ entry, after acknowledge; `timer` for the scheduler tick."""

    def iio_sample(self, payload: bytes) -> None:
        """The simulated accelerometer produced a sample (polled on the tick)."""

    def bpf_run(
        self,
        hook: Any,
        loaded: Any,
        r0: int | None,
        steps: int,
        cost_ns: int,
        helpers: list[int],
        error: str | None,
    ) -> None:
        """One program run on a hook: R0 (None if it failed), instructions executed,
        modelled cost, helper ids called in order (empty unless `bpf` is set)."""

    def guest_fault(self, proc: Any, message: str) -> None:
        """A process is killed for a CPU fault (the console line's text)."""
