"""What every board offers the kernel: buses, devices, CPU contexts, interrupt state.

A board is assembled from a memory-map table (QEMU's hw/<arch>/<board>.c style). The
kernel drives devices through `mmio_*` / `io_*` register accesses, like a driver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.cpu import CPU_CLASSES, GuestCpu
from emulator.cpu.base import TrapHandler
from emulator.devices.blockdev import BlockDevice


class BusError(Exception):
    """An access to an address no device decodes."""


@dataclasses.dataclass(frozen=True)
class Region:
    """One decoded window of a bus."""

    name: str
    base: int
    size: int
    read: Callable[[int], int]
    write: Callable[[int, int], None]


class Bus:
    """Address decoder: routes a register access to the device owning the address."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.regions: list[Region] = []

    def add(
        self,
        name: str,
        base: int,
        size: int,
        read: Callable[[int], int],
        write: Callable[[int, int], None],
    ) -> None:
        self.regions.append(Region(name, base, size, read, write))

    def _find(self, address: int) -> Region:
        for region in self.regions:
            if region.base <= address < region.base + region.size:
                return region
        raise BusError(f"{self.name}: nothing decodes address 0x{address:x}")

    def read(self, address: int) -> int:
        region = self._find(address)
        return region.read(address - region.base)

    def write(self, address: int, value: int) -> None:
        region = self._find(address)
        region.write(address - region.base, value)


class Board:
    """Common board state; `pc` and `virt` add their devices."""

    name: str
    arch: str
    platform: str = ""  # the kernel's platform code for this board; "" = by arch

    # Guest time up to which inputs from outside (GPIO events) are scheduled; the
    # kernel keeps the machine on until then after init exits (None: nothing pending).
    inputs_until_ns: int | None = None

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        self.clock = clock
        self.console_backend = console
        self.block = block
        self.mmio = Bus("mmio")
        self.io = Bus("io")
        # `-d` logging for device models: `events.wants(item)`, `events.emit(item, text)`
        # (the machine's Observability; None until the machine is built).
        self.events: Any = None
        # Called with every new CPU context (the in_asm logger hooks them).
        self.context_observers: list[Callable[[GuestCpu], None]] = []

    def new_context(self, trap_handler: TrapHandler) -> GuestCpu:
        """A fresh CPU context (registers + address space) for one process."""
        cpu = CPU_CLASSES[self.arch](trap_handler)
        for observe in self.context_observers:
            observe(cpu)
        return cpu

    def irq_pending(self) -> bool:
        raise NotImplementedError
