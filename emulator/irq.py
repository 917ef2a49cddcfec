"""Interrupt wires between devices, the interrupt controller and the CPU.

As QEMU's `qemu_irq`: a device does not answer "are you interrupting?" queries, it
drives its output line when the line's level changes, and whoever is wired to the
other end (an interrupt controller input, or the CPU's IRQ pin) reacts then. The
CPU's pin is an `IrqLine`: the interrupt controller sets it, the machine samples it
between CPU slices (where interrupts are taken), which costs one attribute read
instead of a scan of the controller's state.
"""

from __future__ import annotations

from collections.abc import Callable

IrqHandler = Callable[[bool], None]  # called with the line's new level


class IrqLine:
    """One level-triggered wire; `level` is what the receiving end sees."""

    __slots__ = ("level", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.level = False

    def set(self, level: bool) -> None:
        self.level = level
