"""The registry of `-d` log items: one `register()` line adds an item.

An item names what it logs and which kernel event families (`KernelTracer` flags)
it needs, so turning it on switches on exactly those events and nothing else.
Items without kernel flags are emitted by emulator code (in_asm by the CPU
adapters' block hook; device items such as a board's `gpio`/`pwm` by the device
itself through `board.events.emit(item, text)`, after checking
`board.events.wants(item)`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class LogItem:
    name: str
    help: str
    flags: tuple[str, ...] = ()  # KernelTracer flags this item needs


LOG_ITEMS: dict[str, LogItem] = {}


def register(name: str, help: str, flags: tuple[str, ...] = ()) -> LogItem:
    """Add a `-d` item (e.g. `register("gpio", "GPIO pin output changes")`)."""
    item = LogItem(name, help, flags)
    LOG_ITEMS[name] = item
    return item


register("syscall", "every syscall with its arguments and result or errno", ("syscalls",))
register("sched", "context switches, blocking and wake-ups, idle", ("sched",))
register("irq", "interrupts (timer ticks) and IIO samples", ("irq",))
register("bpf", "each BPF program run: id, name, instructions, R0, helpers", ("bpf",))
register("mem", "process memory and ringbuf fill changes", ("syscalls", "bpf"))
register(
    "guest_errors",
    "guest mistakes: bad pointers (EFAULT), unknown syscalls, CPU faults, BPF run errors",
    ("syscalls", "faults", "bpf"),
)
register("in_asm", "each newly translated guest block, disassembled (capstone)")
register("gpio", "rpi5: GPIO output level changes (the device-event channel)")
register("pwm", "rpi5: PWM duty, period and enable changes (the device-event channel)")

# Trace-file categories of `--trace-events` (a fixed set: the JSON tracks they fill).
TRACE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "syscall": ("syscalls",),
    "sched": ("sched",),
    "irq": ("irq",),
    "bpf": ("bpf",),
    "mem": ("syscalls", "bpf"),
}


class UnknownItem(ValueError):
    """A `-d` item or `--trace-events` category that does not exist."""


def parse_list(text: str, known: Mapping[str, object], what: str) -> list[str]:
    """`a,b,c` -> names, in registry order; `all` selects every one."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if "all" in names:
        return list(known)
    bad = [n for n in names if n not in known]
    if bad:
        raise UnknownItem(f"unknown {what} {', '.join(bad)!s} (choose from {', '.join(known)})")
    return [n for n in known if n in names]


def items_help() -> str:
    """`-d help`: the item list, QEMU style."""
    width = max(len(n) for n in LOG_ITEMS)
    lines = ["Log items (comma separated):"]
    lines += [f"{item.name:<{width}} {item.help}" for item in LOG_ITEMS.values()]
    lines.append(f"{'all':<{width}} every item above")
    return "\n".join(lines)
