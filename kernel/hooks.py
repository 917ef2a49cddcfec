"""Kernel extension points where BPF programs run: timer, syscalls, scheduler.

The kernel calls these unconditionally for the timer and behind cheap `*_active`
flags on hot paths (every syscall, every switch), so an unused hook costs nothing.
"""

from __future__ import annotations

from typing import Any


class KernelHooks:
    """Attach points; the BPF subsystem fills them in."""

    def __init__(self) -> None:
        self.sys_enter_active = False
        self.sys_exit_active = False
        self.sched_switch_active = False

    def init_bpf(self, kernel: Any) -> None:
        """Boot: set up the BPF subsystem."""

    def init_devices(self, kernel: Any) -> None:
        """Boot: start the simulated devices."""

    def timer_tick(self, kernel: Any) -> None:
        """Every timer interrupt, before EOI."""

    def device_irq(self, kernel: Any, irq: int) -> None:
        """A device interrupt (not the tick), before EOI."""

    def prog_attached(self, kind: int, key: int, value: int) -> None:
        """PROG_ATTACH succeeded; `key`/`value` are the attr fields (GPIO: pin, edges)."""

    def sys_enter(self, nr: int, args: tuple[int, ...]) -> None:
        """Top of every syscall, before dispatch."""

    def sys_exit(self, nr: int, result: int) -> None:
        """After every syscall, with its result."""

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        """Before every context switch."""
