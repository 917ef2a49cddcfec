"""What the kernel knows about the machine it runs on: the board description and the
interface through which it drives the hardware.

A board is one memory-map table (QEMU's `hw/arm/virt.c` `base_memmap[]` + `irqmap[]`
as one list): each entry names a device window with its bus, base, size and the
interrupt it raises. The emulator's boards build their buses from that table and
hand the same, read-only, table to the kernel; the kernel's platform code and
drivers take every address and interrupt number from it, never from constants of
their own. The types live here, on the kernel side, because the kernel must not
import the emulator (arrows point down: emulator -> kernel).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, Protocol

BusName = Literal["mmio", "io", "sysreg"]


@dataclasses.dataclass(frozen=True)
class MemMapEntry:
    """One entry of a board's memory map.

    ``bus`` is ``mmio`` (memory-mapped), ``io`` (x86 port I/O) or ``sysreg`` (reached
    through system registers: no address, ``base`` None and ``size`` 0). ``irq`` is
    the interrupt controller input the device drives (a GIC INTID), None if it
    raises none or is polled."""

    name: str
    kind: str  # the device model, e.g. "pl011", "gicv2-dist"
    bus: BusName
    base: int | None
    size: int
    irq: int | None = None

    @property
    def address(self) -> int:
        """The base of a bus-mapped window (an error for a sysreg device)."""
        if self.base is None:
            raise LookupError(f"{self.name} has no address (it is reached via {self.bus})")
        return self.base

    def __post_init__(self) -> None:
        if (self.base is None) != (self.bus == "sysreg"):
            raise ValueError(f"{self.name}: only sysreg devices have no base")
        if self.base is not None and self.size <= 0:
            raise ValueError(f"{self.name}: a window needs a size")


@dataclasses.dataclass(frozen=True)
class BoardDescription(Mapping[str, MemMapEntry]):
    """A board's memory map, read-only: ``desc["uart"].base``, iteration in table
    order. Also names the board, its architecture and the kernel's platform code
    (the `kernel.arch.PLATFORMS` key)."""

    name: str
    arch: str
    platform: str
    entries: tuple[MemMapEntry, ...]
    _by_name: Mapping[str, MemMapEntry] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_name = {r.name: r for r in self.entries}
        if len(by_name) != len(self.entries):
            raise ValueError(f"{self.name}: duplicate region names")
        for bus in ("mmio", "io"):
            windows = sorted((r for r in self.entries if r.bus == bus), key=lambda r: r.address)
            for a, b in zip(windows, windows[1:], strict=False):
                if a.address + a.size > b.address:
                    raise ValueError(f"{self.name}: {a.name} overlaps {b.name}")
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    def __getitem__(self, name: str) -> MemMapEntry:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"board {self.name} has no {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def table(self) -> list[str]:
        """The memory map as text lines, as `run-virt --machine-info` prints it:
        one line per entry, in table order; "-" where an entry has no value."""
        lines = [
            f"board {self.name} ({self.arch})",
            _row("name", "device", "bus", "base", "size", "irq"),
        ]
        for r in self.entries:
            if r.base is None:
                base = size = "-"
            else:
                base = f"0x{r.base:_X}" if r.bus == "io" else f"0x{r.base:09_X}"
                size = f"0x{r.size:_X}"
            irq = "-" if r.irq is None else str(r.irq)
            lines.append(_row(r.name, r.kind, r.bus, base, size, irq))
        return lines


def _row(name: str, kind: str, bus: str, base: str, size: str, irq: str) -> str:
    return f"{name:<10} {kind:<18} {bus:<6} {base:>14} {size:>7}  {irq}".rstrip()


class RegisterBus(Protocol):
    """Register access with an explicit width in bytes (port I/O is `outb` by default)."""

    def read(self, address: int, size: int | None = None) -> int: ...
    def write(self, address: int, value: int, size: int | None = None) -> None: ...
    def write_block(self, address: int, data: bytes, size: int | None = None) -> None:
        """``write(address, b, size)`` for every byte ``b`` of ``data``, in order."""
        ...


class GuestTimer(Protocol):
    """A one-shot guest-time timer of the machine's clock."""

    def arm(self, deadline_ns: int) -> None: ...
    def cancel(self) -> None: ...


class GuestClock(Protocol):
    """Guest time as the kernel sees it (the machine owns and advances it)."""

    @property
    def ns_per_insn(self) -> int: ...

    def now_ns(self) -> int: ...
    def add_ns(self, ns: int) -> None: ...
    def timer(self, callback: Callable[[int], None]) -> Any: ...


class BlockStore(Protocol):
    """The root disk: sector reads."""

    @property
    def sectors(self) -> int: ...

    def read_sectors(self, lba: int, count: int) -> bytes: ...


class BoardPort(Protocol):
    """Everything the kernel needs from the machine: the description, the buses its
    drivers program, the CPU's interrupt acknowledge, CPU contexts, time and disk."""

    @property
    def description(self) -> BoardDescription: ...
    @property
    def clock(self) -> GuestClock: ...
    @property
    def block(self) -> BlockStore: ...
    @property
    def mmio(self) -> RegisterBus: ...
    @property
    def io(self) -> RegisterBus: ...
    @property
    def inputs_until_ns(self) -> int | None:
        """Guest time up to which inputs from outside are scheduled (None: none)."""
        ...

    def new_context(self, trap_handler: Callable[..., int | None]) -> Any:
        """A fresh CPU context (registers + address space) for one process."""
        ...

    def sysreg_read(self, name: str) -> int: ...
    def sysreg_write(self, name: str, value: int) -> None: ...

    def acknowledge_irq(self) -> int | None:
        """x86's interrupt-acknowledge cycle: the local APIC hands the CPU the highest
        pending vector (None: nothing pending). AArch64 acknowledges via GICC_IAR."""
        ...
