"""The device-event channel: externally visible changes reported by device models.

A GPIO output that changes level or a PWM channel whose duty changes is something a
user wants to see (an LED lights, a motor stops) without it appearing on the guest's
serial console, which must stay what the real board's console shows. Device models
call `emit(category, message)`; the sink timestamps the event with guest time, keeps
it for the test API and writes one line to its output (stderr by default, a file with
`--device-log FILE`, nothing with `--device-log none`). Categories (`gpio`, `pwm`) are
QEMU `-d` item names: with `-d gpio,pwm` each event is also a line of the `-d` log
(`-D FILE` or stderr), through `mirror`.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import TextIO

MAX_KEPT_EVENTS = 100_000  # the test API's history; older events are dropped first


@dataclasses.dataclass(frozen=True)
class DeviceEvent:
    """One reported change: guest time, category (`gpio` / `pwm`), message text."""

    time_ns: int
    category: str
    message: str

    def line(self) -> str:
        seconds, ns = divmod(self.time_ns, 1_000_000_000)
        return f"[{seconds:5d}.{ns:09d}] {self.message}\n"


class DeviceEventLog:
    """Collects device events; writes each to `stream` if one is given."""

    def __init__(
        self,
        now_ns: Callable[[], int],
        stream: TextIO | None = None,
        categories: frozenset[str] | None = None,
    ) -> None:
        self._now_ns = now_ns
        self._stream = stream
        self.categories = categories  # None: every category is written
        self.events: list[DeviceEvent] = []
        self.dropped = 0
        # The machine's `-d` log (`Observability.emit`), set once the machine is built.
        self.mirror: Callable[[str, str], None] | None = None

    def emit(self, category: str, message: str) -> None:
        event = DeviceEvent(self._now_ns(), category, message)
        if len(self.events) >= MAX_KEPT_EVENTS:
            del self.events[: MAX_KEPT_EVENTS // 10]
            self.dropped += MAX_KEPT_EVENTS // 10
        self.events.append(event)
        stream = self._stream
        if stream is not None and (self.categories is None or category in self.categories):
            stream.write(event.line())
            stream.flush()
        if self.mirror is not None:
            self.mirror(category, message)

    def close(self) -> None:
        if self._stream is not None and self._stream not in (sys.stderr, sys.stdout):
            self._stream.close()
        self._stream = None


def open_device_log(spec: str | None, now_ns: Callable[[], int]) -> DeviceEventLog:
    """`None`/`stderr` -> stderr, `none` -> kept in memory only, else a file path."""
    if spec is None or spec == "stderr":
        return DeviceEventLog(now_ns, sys.stderr)
    if spec == "none":
        return DeviceEventLog(now_ns, None)
    return DeviceEventLog(now_ns, open(spec, "w", encoding="utf-8"))  # noqa: SIM115
