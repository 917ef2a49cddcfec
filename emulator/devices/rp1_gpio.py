"""RP1 GPIO bank 0 (Raspberry Pi 5): 28 pins, a STATUS and a CTRL register each.

The registers axiomOS's `rpi5/gpio.rs` driver uses (Linux pinctrl-rp1 layout; the
map is `kernel.hw.rp1`, shared with the driver), at a stride of 8 bytes per pin:

- STATUS (+0, read-only): bit 17 the pad level; latched events bit 20 falling edge,
  21 rising edge, 22 level low, 23 level high.
- CTRL (+4): FUNCSEL bits 4:0 (0 input, 1 output), OUTOVER bits 14:13 as the driver
  writes them (3 drive high, 2 drive low, else not overridden), interrupt enables
  bits 20..23 matching the event bits, IRQRESET bit 28 (write 1: clear the pin's
  latched edge events; reads 0).

A pin's level is the driven value while OUTOVER forces it, else the level applied
from outside (`set_input`: the command line, a script, the test API). Edges are
latched only while the matching interrupt enable is set; the bank's interrupt line
is high while any pin has an enabled event. Every change of a driven output level is
reported on the device-event channel as `gpio: pin P -> L`.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.devlog import DeviceEventLog
from kernel.hw.rp1 import (
    CTRL,
    EV_FALL,
    EV_HIGH,
    EV_LOW,
    EV_RISE,
    EVENT_MASK,
    GPIO_SIZE,
    IRQRESET,
    LEVEL_BIT,
    NUM_PINS,
    OUTOVER_HIGH,
    OUTOVER_LOW,
    OUTOVER_MASK,
    OUTOVER_SHIFT,
    STATUS,
    STRIDE,
)

__all__ = ["CTRL", "EV_FALL", "EV_RISE", "LEVEL_BIT", "NUM_PINS", "STATUS", "Rp1Gpio"]


class Rp1Gpio:
    """The bank's register window; `irq_line(level)` drives the interrupt input."""

    SIZE = GPIO_SIZE

    def __init__(
        self, events: DeviceEventLog | None = None, irq_line: Callable[[bool], None] | None = None
    ) -> None:
        self.events = events
        self.irq_line = irq_line or (lambda _level: None)
        self.ctrl = [0] * NUM_PINS
        self.inputs = [0] * NUM_PINS  # levels applied from outside
        self.latched = [0] * NUM_PINS  # edge events
        self._irq = False

    # ---------------------------------------------------------------- pin state

    def driven(self, pin: int) -> int | None:
        """The level the pin's output override forces, or None if not driven."""
        over = (self.ctrl[pin] >> OUTOVER_SHIFT) & OUTOVER_MASK
        if over == OUTOVER_HIGH:
            return 1
        if over == OUTOVER_LOW:
            return 0
        return None

    def level(self, pin: int) -> int:
        forced = self.driven(pin)
        return self.inputs[pin] if forced is None else forced

    def set_input(self, pin: int, level: int) -> None:
        """Apply a level to the pin from outside (a button, a limit switch)."""
        if not 0 <= pin < NUM_PINS:
            raise ValueError(f"GPIO pin {pin} out of range 0..{NUM_PINS - 1}")
        before = self.level(pin)
        self.inputs[pin] = 1 if level else 0
        self._level_changed(pin, before)

    def _level_changed(self, pin: int, before: int) -> None:
        after = self.level(pin)
        if after != before:
            edge = EV_RISE if after else EV_FALL
            if self.ctrl[pin] & edge:
                self.latched[pin] |= edge
        self._update_irq()

    def _events(self, pin: int) -> int:
        level_events = EV_HIGH if self.level(pin) else EV_LOW
        return (self.latched[pin] | level_events) & self.ctrl[pin] & EVENT_MASK

    def _update_irq(self) -> None:
        asserted = any(self._events(pin) for pin in range(NUM_PINS))
        if asserted != self._irq:
            self._irq = asserted
            self.irq_line(asserted)

    # ---------------------------------------------------------------- registers

    def read(self, offset: int, size: int = 4) -> int:
        if size != 4 or offset % 4:
            return 0  # 32-bit registers, word access only
        pin, reg = divmod(offset, STRIDE)
        if pin >= NUM_PINS:
            return 0
        if reg == STATUS:
            return (LEVEL_BIT if self.level(pin) else 0) | self._events(pin)
        if reg == CTRL:
            return self.ctrl[pin]
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if size != 4 or offset % 4:
            return
        pin, reg = divmod(offset, STRIDE)
        if pin >= NUM_PINS or reg != CTRL:
            return
        before, was_driven = self.level(pin), self.driven(pin)
        if value & IRQRESET:
            self.latched[pin] = 0
        self.ctrl[pin] = value & 0xFFFF_FFFF & ~IRQRESET
        now_driven = self.driven(pin)
        if now_driven is not None and now_driven != was_driven and self.events is not None:
            self.events.emit("gpio", f"gpio: pin {pin} -> {now_driven}")
        self._level_changed(pin, before)
