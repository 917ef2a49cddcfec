"""Drivers for the Raspberry Pi 5's RP1 GPIO bank and PWM controllers.

They follow axiomOS's `platform/rpi5/gpio.rs` and `pwm.rs` register for register
(read-modify-write of CTRL, OUTOVER at bit 13, the 125 MHz PWM clock), so the
device models see the same accesses the real board would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NUM_PINS = 28
STRIDE = 8
STATUS, CTRL = 0x0, 0x4
FUNCSEL_MASK = 0x1F
FUNC_INPUT, FUNC_OUTPUT = 0, 1
OUTOVER_SHIFT = 13
LEVEL_BIT = 1 << 17
EVENT_FALLING, EVENT_RISING = 1 << 20, 1 << 21
EVENT_MASK = 0xF << 20
IRQEN_FALLING, IRQEN_RISING = 1 << 20, 1 << 21
IRQEN_ALL = 0xF << 20
IRQRESET = 1 << 28

PWM_CTL, PWM_STA = 0x00, 0x04
PWM_RNG = {1: 0x10, 2: 0x20}
PWM_DAT = {1: 0x14, 2: 0x24}
PWM_ENABLE_BITS = {1: (1 << 0) | (1 << 7), 2: (1 << 8) | (1 << 15)}  # PWENn | MSENn
PWM_CLOCK_HZ = 125_000_000
PWM_TICK_NS = 8


class Rp1GpioDriver:
    """Pins 0..27 of RP1 bank 0. Pin numbers are checked by the callers."""

    def __init__(self, mmio: Any, base: int) -> None:
        self.mmio = mmio
        self.base = base

    def _ctrl(self, pin: int) -> int:
        return self.base + pin * STRIDE + CTRL

    def _modify(self, pin: int, change: Callable[[int], int]) -> None:
        reg = self._ctrl(pin)
        self.mmio.write(reg, change(self.mmio.read(reg)))

    def set_function(self, pin: int, func: int) -> None:
        self._modify(pin, lambda v: (v & ~FUNCSEL_MASK) | func)

    def configure_input(self, pin: int) -> None:
        self.set_function(pin, FUNC_INPUT)

    def set_high(self, pin: int) -> None:
        self._modify(pin, lambda v: v | (3 << OUTOVER_SHIFT))

    def set_low(self, pin: int) -> None:
        self._modify(pin, lambda v: (v & ~(3 << OUTOVER_SHIFT)) | (2 << OUTOVER_SHIFT))

    def read(self, pin: int) -> bool:
        return bool(self.mmio.read(self.base + pin * STRIDE + STATUS) & LEVEL_BIT)

    def enable_interrupt(self, pin: int, rising: bool, falling: bool) -> None:
        mask = (IRQEN_RISING if rising else 0) | (IRQEN_FALLING if falling else 0)
        self._modify(pin, lambda v: v | mask)

    def disable_interrupt(self, pin: int) -> None:
        self._modify(pin, lambda v: v & ~IRQEN_ALL)

    def clear_interrupt(self, pin: int) -> None:
        self._modify(pin, lambda v: v | IRQRESET)

    def pending_events(self, pin: int) -> int:
        return self.mmio.read(self.base + pin * STRIDE + STATUS) & EVENT_MASK


class Rp1PwmDriver:
    """One PWM controller; every change reports a PWM event, as the original's
    `trigger_event` does (which runs the PWM attach point)."""

    def __init__(
        self,
        mmio: Any,
        base: int,
        chip: int,
        on_event: Callable[[int, int, int, int, bool], None],
    ) -> None:
        self.mmio = mmio
        self.base = base
        self.chip = chip
        self.on_event = on_event  # (chip, channel, period_ns, duty_ns, enabled)

    def init(self) -> None:
        self.mmio.write(self.base + PWM_CTL, 0)
        self.mmio.write(self.base + PWM_STA, 0xFF)

    def enable(self, channel: int) -> None:
        ctl = self.base + PWM_CTL
        self.mmio.write(ctl, self.mmio.read(ctl) | PWM_ENABLE_BITS[channel])
        self._trigger(channel, True)

    def disable(self, channel: int) -> None:
        ctl = self.base + PWM_CTL
        pwen = PWM_ENABLE_BITS[channel] & 0x101  # only PWENn, as the original
        self.mmio.write(ctl, self.mmio.read(ctl) & ~pwen)
        self._trigger(channel, False)

    def set_frequency(self, channel: int, freq_hz: int) -> None:
        if freq_hz == 0:
            return
        self.mmio.write(self.base + PWM_RNG[channel], (PWM_CLOCK_HZ // freq_hz) & 0xFFFF_FFFF)
        self._trigger(channel, True)

    def set_duty_cycle(self, channel: int, percent: int) -> None:
        rng = self.mmio.read(self.base + PWM_RNG[channel])
        data = (rng * min(percent, 100)) // 100
        self.mmio.write(self.base + PWM_DAT[channel], data & 0xFFFF_FFFF)
        self._trigger(channel, True)

    def _trigger(self, channel: int, enabled: bool) -> None:
        period = self.mmio.read(self.base + PWM_RNG[channel]) * PWM_TICK_NS
        duty = self.mmio.read(self.base + PWM_DAT[channel]) * PWM_TICK_NS
        self.on_event(self.chip, channel, period & 0xFFFF_FFFF, duty & 0xFFFF_FFFF, enabled)
