"""The kernel log: axiomOS's line format, written to the console.

`<colour><LEVEL padded to 5>ESC[0m <where> [<module>] <message>`; `<where>` is `boot`
before per-CPU context exists (always on AArch64) and `cpu<N> pid<pid:3>` on x86_64
afterwards. The maximum level is INFO: DEBUG lines are dropped, as in axiomOS.
The Raspberry Pi 5 kernel runs with the log off (`max_level = None`); the kernel
command line's `loglevel=` (an emulator extension) overrides the platform default.
Panics are written whatever the level, as the original's panic handler prints
directly to the serial port.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.abi import LOG_COLOURS, LOG_RESET

LEVELS = ("ERROR", "WARN", "INFO", "DEBUG")
MAX_LEVEL = "INFO"
LOGLEVEL_NAMES = {"off": None, "error": "ERROR", "warn": "WARN", "info": "INFO"}


class KernelLog:
    """Formats log lines and hands the bytes to the console driver."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self.where: Callable[[], str] = lambda: "boot"
        self.counts = dict.fromkeys(LEVELS, 0)
        self.max_level: str | None = MAX_LEVEL

    def enabled(self, level: str) -> bool:
        limit = self.max_level
        return limit is not None and LEVELS.index(level) <= LEVELS.index(limit)

    def log(self, level: str, module: str, message: str, force: bool = False) -> None:
        if not force and not self.enabled(level):
            return
        self.counts[level] += 1
        line = f"{LOG_COLOURS[level]}{level:<5}{LOG_RESET} {self.where()} [{module}] {message}\n"
        self._write(line.encode())

    def error(self, module: str, message: str) -> None:
        self.log("ERROR", module, message)

    def warn(self, module: str, message: str) -> None:
        self.log("WARN", module, message)

    def info(self, module: str, message: str) -> None:
        self.log("INFO", module, message)

    def debug(self, module: str, message: str) -> None:
        self.log("DEBUG", module, message)

    def raw(self, text: str) -> None:
        """Unformatted console output (banners, the metrics block)."""
        self._write(text.encode())
