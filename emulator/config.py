"""Options of one machine run, independent of how they were given (CLI, test API)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

ARCHES = ("x86_64", "aarch64")
MACHINE_ARCH = {"pc": "x86_64", "virt": "aarch64", "rpi5": "aarch64"}
DEFAULT_MACHINE = {"x86_64": "pc", "aarch64": "virt"}
DEFAULT_MEMORY = 128 << 20

# Exit statuses of run-virt other than init's own (documented in the README).
EXIT_BAD_INPUT = 126
EXIT_TIMEOUT = 124
EXIT_PANIC = 125
EXIT_KILLED = 137  # gdb's `kill` (128 + SIGKILL)


@dataclasses.dataclass
class MachineConfig:
    """Everything needed to build and boot a machine."""

    arch: str = "aarch64"
    image: Path | None = None  # None: the built default image of `arch`
    cmdline: str = ""
    timeout_s: float | None = None  # guest seconds
    memory: int = DEFAULT_MEMORY
    clock: str = "icount"  # or "host"
    icount_shift: int = 3
    trace_syscalls: bool = False
    machine: str | None = None  # board name; None: the arch's default (pc / virt)
    gpio: list[str] = dataclasses.field(default_factory=list)  # "PIN=LEVEL@TIME" events
    gpio_script: Path | None = None  # a file of such events
    device_log: str | None = None  # device-event channel: None/"stderr", "none", or a path

    trace: Path | None = None  # --trace FILE.json (Chrome Trace Event format)
    trace_events: tuple[str, ...] = ("syscall", "sched", "irq", "bpf", "mem")
    log_items: tuple[str, ...] = ()  # -d items
    log_file: Path | None = None  # -D FILE (default: stderr)
    gdb: str | None = None  # gdb server: tcp:[HOST]:PORT or unix:PATH (-s = tcp::1234)
    gdb_wait: bool = False  # -S: hold before the first guest instruction until gdb resumes

    def board_name(self) -> str:
        return self.machine if self.machine is not None else DEFAULT_MACHINE[self.arch]

    def image_path(self) -> Path:
        return self.image if self.image is not None else default_image(self.arch)


def default_image(arch: str) -> Path:
    """Where `make` puts the built image of an architecture."""
    return Path(__file__).resolve().parent.parent / "build" / arch / "disk.img"


def parse_size(text: str) -> int:
    """QEMU-style sizes: `128M`, `1G`, `65536K`, plain bytes; a bare number is MiB."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text) << 20
