"""Options of one machine run, independent of how they were given (CLI, test API)."""

from __future__ import annotations

import dataclasses
import math
import os
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
EXIT_USAGE = 2  # a bad option or option value (click's convention)

MIN_MEMORY = 4 << 20
MAX_TIMEOUT_S = 1e9  # guest seconds (~31 years); beyond it is a typo, not a plan


class ConfigError(ValueError):
    """An option value that cannot be used; the message is the one line the user sees."""


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

    @classmethod
    def from_options(
        cls,
        arch: str = "aarch64",
        *,
        image: str | os.PathLike[str] | None = None,
        append: str = "",
        timeout: float | str | None = None,
        memory: int | str = DEFAULT_MEMORY,
        clock: str = "icount",
        icount_shift: int = 3,
        trace_syscalls: bool = False,
    ) -> MachineConfig:
        """The options under run-virt's names (`-m` is `memory`), validated the same way
        for the CLI and the test API; ConfigError names the bad one."""
        if arch not in ARCHES:
            raise ConfigError(f"unknown architecture {arch!r} (choose x86_64 or aarch64)")
        if clock not in ("icount", "host"):
            raise ConfigError(f"--clock {clock!r}: use icount or host")
        if not isinstance(icount_shift, int) or not 0 <= icount_shift <= 10:
            raise ConfigError(f"--icount-shift {icount_shift!r}: an integer 0..10")
        return cls(
            arch=arch,
            image=Path(image) if image is not None else None,
            cmdline=append,
            timeout_s=timeout_seconds(timeout),
            memory=memory_bytes(memory),
            clock=clock,
            icount_shift=icount_shift,
            trace_syscalls=bool(trace_syscalls),
        )


def default_image(arch: str) -> Path:
    """Where `make` puts the built image of an architecture."""
    return Path(__file__).resolve().parent.parent / "build" / arch / "disk.img"


def parse_size(text: str) -> int:
    """QEMU-style sizes: `128M`, `1G`, `65536K`, `1T`; a bare number is MiB."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text) << 20


def host_memory_bytes() -> int:
    """Physical memory of the host: the most a machine's budget may promise."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - every Linux has both
        return 1 << 40


def memory_bytes(value: int | str) -> int:
    """`-m`: a size like 64M (or bytes, from the test API), 4 MiB up to the host's RAM.

    Everything a guest makes the host allocate is charged to this budget, so a budget
    the host cannot back would let a guest exhaust it: refused."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"-m {value!r}: a size like 128M or 1G")
    try:
        size = parse_size(value) if isinstance(value, str) else value
    except ValueError:
        raise ConfigError(f"-m {value!r}: a size like 128M or 1G") from None
    if size < MIN_MEMORY:
        raise ConfigError(f"-m {value}: at least 4M")
    limit = host_memory_bytes()
    if size > limit:
        raise ConfigError(f"-m {value}: more than this host's {limit >> 20} MiB of memory")
    return size


def timeout_seconds(value: float | str | None) -> float | None:
    """`--timeout`: guest seconds, finite, > 0 and at most MAX_TIMEOUT_S."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--timeout {value!r}: a number of guest seconds") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT_S:
        raise ConfigError(
            f"--timeout {value}: guest seconds, more than 0 and at most {MAX_TIMEOUT_S:g}"
        )
    return seconds
