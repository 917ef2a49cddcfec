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
    read: Callable[[int, int], int]  # (offset, size) -> value
    write: Callable[[int, int, int], None]  # (offset, value, size)
    # (offset, data, size): many writes of one register, e.g. a UART data register fed
    # a whole console line; None = the bus repeats `write` per item.
    write_block: Callable[[int, bytes, int], None] | None = None


ACCESS_SIZES = (1, 2, 4, 8)


class Bus:
    """Address decoder: routes a register access to the device owning the address.

    Every access carries its width in bytes (1, 2, 4 or 8) to the device, which
    decides what a byte write or a 64-bit read means, as its hardware does (a byte
    write to a GIC priority register changes one priority; a LAPIC ignores it)."""

    def __init__(self, name: str, default_size: int = 4) -> None:
        self.name = name
        self.default_size = default_size  # width of an access that does not say
        self.regions: list[Region] = []

    def add(
        self,
        name: str,
        base: int,
        size: int,
        read: Callable[[int, int], int],
        write: Callable[[int, int, int], None],
        write_block: Callable[[int, bytes, int], None] | None = None,
    ) -> None:
        self.regions.append(Region(name, base, size, read, write, write_block))

    def _find(self, address: int, size: int) -> Region:
        if size not in ACCESS_SIZES:
            raise BusError(f"{self.name}: {size}-byte access at 0x{address:x}")
        for region in self.regions:
            if region.base <= address < region.base + region.size:
                return region
        raise BusError(f"{self.name}: nothing decodes address 0x{address:x}")

    def read(self, address: int, size: int | None = None) -> int:
        size = size or self.default_size
        region = self._find(address, size)
        return region.read(address - region.base, size)

    def write(self, address: int, value: int, size: int | None = None) -> None:
        size = size or self.default_size
        region = self._find(address, size)
        region.write(address - region.base, value & ((1 << 8 * size) - 1), size)

    def write_block(self, address: int, data: bytes, size: int | None = None) -> None:
        """``write(address, byte, size)`` for each byte of ``data``, decoded once.

        A device that registered a ``write_block`` takes the whole buffer in one call
        (it still accounts for every byte as its register would); others get one
        `write` per byte, so the result is the same either way."""
        size = size or self.default_size
        region = self._find(address, size)
        offset = address - region.base
        if region.write_block is not None:
            region.write_block(offset, data, size)
            return
        write = region.write
        for byte in data:
            write(offset, byte, size)


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
        self.io = Bus("io", default_size=1)  # x86 port I/O: inb/outb unless told
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
