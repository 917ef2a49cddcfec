"""What every board offers the kernel: buses, devices, CPU contexts, interrupt state.

A board is one memory-map table, a `kernel.board.BoardDescription` (QEMU's
hw/<arch>/<board>.c `base_memmap[]` + `irqmap[]`): `Board.map_devices` puts every
bus entry of the table on its bus, served by the device model that claims it, and
the boards wire device IRQ outputs to the controller inputs the table names. The
same table is handed to the kernel (`description`), which drives devices through
`mmio_*` / `io_*` register accesses, like a driver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.cpu import CPU_CLASSES, GuestCpu
from emulator.cpu.base import TrapHandler
from emulator.devices.blockdev import BlockDevice
from emulator.irq import IrqLine
from kernel.board import BoardDescription


class BusError(Exception):
    """An access to an address no device decodes."""


ReadFn = Callable[[int, int], int]  # (offset, size) -> value
WriteFn = Callable[[int, int, int], None]  # (offset, value, size)
# (offset, data, size): many writes of one register, e.g. a UART data register fed
# a whole console line; None = the bus repeats `write` per item.
WriteBlockFn = Callable[[int, bytes, int], None]


@dataclasses.dataclass(frozen=True)
class Window:
    """A device model's register window handlers, before the board places it."""

    read: ReadFn
    write: WriteFn
    write_block: WriteBlockFn | None = None


@dataclasses.dataclass(frozen=True)
class Region:
    """One decoded window of a bus."""

    name: str
    base: int
    size: int
    read: ReadFn
    write: WriteFn
    write_block: WriteBlockFn | None = None


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
        read: ReadFn,
        write: WriteFn,
        write_block: WriteBlockFn | None = None,
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
    """Common board state; `pc`, `virt` and `rpi5` add their devices from their table."""

    description: ClassVar[BoardDescription]  # the memory map: the one source of addresses
    name: ClassVar[str]
    arch: ClassVar[str]

    # Guest time up to which inputs from outside (GPIO events) are scheduled; the
    # kernel keeps the machine on until then after init exits (None: nothing pending).
    inputs_until_ns: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "description" in cls.__dict__:
            cls.name = cls.description.name
            cls.arch = cls.description.arch

    def __init__(self, clock: VirtualClock, console: CharBackend, block: BlockDevice) -> None:
        self.clock = clock
        self.console_backend = console
        self.block = block
        self.mmio = Bus("mmio")
        self.io = Bus("io", default_size=1)  # x86 port I/O: inb/outb unless told
        # The CPU's IRQ input, driven by the interrupt controller (see emulator.irq).
        self.cpu_irq = IrqLine("cpu-irq")
        # `-d` logging for device models: `events.wants(item)`, `events.emit(item, text)`
        # (the machine's Observability; None until the machine is built).
        self.events: Any = None
        # Called with every new CPU context (the in_asm logger hooks them).
        self.context_observers: list[Callable[[GuestCpu], None]] = []

    def map_devices(self, windows: Mapping[str, Window]) -> None:
        """Decode every mmio / io entry of the table on its bus, served by the device
        window of the same name. A table entry without a device, or a device the table
        does not place, is a bug of the board: refused here, at construction."""
        placed = {name for name, region in self.description.items() if region.bus != "sysreg"}
        if placed != set(windows):
            raise ValueError(
                f"{self.name}: table entries {sorted(placed)} != devices {sorted(windows)}"
            )
        for name, region in self.description.items():
            if region.bus == "sysreg":
                continue
            window = windows[name]
            bus = self.mmio if region.bus == "mmio" else self.io
            bus.add(
                name, region.address, region.size, window.read, window.write, window.write_block
            )

    def irq_number(self, name: str) -> int:
        """The interrupt controller input the table gives device `name`."""
        irq = self.description[name].irq
        if irq is None:
            raise ValueError(f"{self.name}: {name} has no IRQ in the board table")
        return irq

    def new_context(self, trap_handler: TrapHandler) -> GuestCpu:
        """A fresh CPU context (registers + address space) for one process."""
        cpu = CPU_CLASSES[self.arch](trap_handler)
        for observe in self.context_observers:
            observe(cpu)
        return cpu

    def irq_pending(self) -> bool:
        """Is the CPU's IRQ line high? (A wire's level, not a scan of the controller.)"""
        return self.cpu_irq.level

    def sysreg_read(self, name: str) -> int:
        raise BusError(f"{self.name}: no system register {name}")

    def sysreg_write(self, name: str, value: int) -> None:
        raise BusError(f"{self.name}: no system register {name}")

    def acknowledge_irq(self) -> int | None:
        """The CPU's interrupt-acknowledge cycle, on boards whose CPU does one (x86)."""
        raise BusError(f"{self.name}: the CPU acknowledges interrupts at the GIC (GICC_IAR)")
