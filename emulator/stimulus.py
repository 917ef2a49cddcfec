"""Inputs from outside the machine at fixed guest times: `--gpio 22=1@1.5s`.

An event is `PIN=LEVEL@TIME`: GPIO pin 0..27, level 0 or 1, and a guest time with
a unit (`s`, `ms`, `us`, `ns`; a bare number is seconds). A script file holds one
event per line (blank lines and `#` comments are ignored), so a test bench can be
replayed. Events are clock timers, so they land at exactly the same guest time, and
between the same two guest instructions, on every run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

from emulator.devices.rp1_gpio import NUM_PINS

_EVENT = re.compile(r"^\s*(\d+)\s*=\s*([01])\s*@\s*([0-9]*\.?[0-9]+)\s*(s|ms|us|ns)?\s*$")
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
MAX_SCRIPT_BYTES = 1 << 20


class StimulusError(ValueError):
    """A malformed event or an unreadable script (one line for the user)."""


@dataclasses.dataclass(frozen=True, order=True)
class GpioEvent:
    time_ns: int
    pin: int
    level: int

    def __str__(self) -> str:
        return f"{self.pin}={self.level}@{self.time_ns}ns"


def parse_event(text: str) -> GpioEvent:
    match = _EVENT.match(text)
    if match is None:
        raise StimulusError(f"bad GPIO event {text!r}: use PIN=LEVEL@TIME, e.g. 22=1@1.5s")
    pin, level, amount, unit = match.groups()
    if int(pin) >= NUM_PINS:
        raise StimulusError(f"bad GPIO event {text!r}: pin {pin} is not 0..{NUM_PINS - 1}")
    time_ns = int(Fraction(amount) * _UNIT_NS[unit or "s"])
    return GpioEvent(time_ns, int(pin), int(level))


def parse_script(path: Path) -> list[GpioEvent]:
    try:
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise StimulusError(f"GPIO script {path} is larger than 1 MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StimulusError(f"cannot read GPIO script {path}: {err}") from None
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            events.append(parse_event(line))
        except StimulusError as err:
            raise StimulusError(f"{path}:{number}: {err}") from None
    return events


def schedule(board: Any, events: Iterable[GpioEvent]) -> int:
    """Arm one clock timer per event on a board with a GPIO bank; returns how many."""
    events = sorted(events)
    if not events:
        return 0
    gpio = getattr(board, "gpio", None)
    if gpio is None:
        raise StimulusError(f"board {board.name} has no GPIO pins (use --machine rpi5)")
    clock = board.clock
    for event in events:
        timer = clock.timer(lambda _t, e=event: gpio.set_input(e.pin, e.level))
        timer.arm(event.time_ns)
    last = events[-1].time_ns
    board.inputs_until_ns = max(last, board.inputs_until_ns or 0)
    return len(events)
