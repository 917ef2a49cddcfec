"""Drivers for the Raspberry Pi 5's RP1 GPIO bank and PWM controllers.

They follow axiomOS's `platform/rpi5/gpio.rs` and `pwm.rs` register for register
(read-modify-write of CTRL, OUTOVER at bit 13, the 125 MHz PWM clock), so the
device models see the same accesses the real board would. The register map is
`kernel.hw.rp1`, shared with the device models; the bases are the board table's.
"""

from __future__ import annotations

from collections.abc import Callable

from kernel.board import RegisterBus
from kernel.hw.rp1 import (
    CTL,
    CTRL,
    DAT,
    EV_FALL,
    EV_RISE,
    EVENT_MASK,
    FUNC_INPUT,
    FUNCSEL_MASK,
    IRQRESET,
    LEVEL_BIT,
    MSEN,
    NUM_PINS,
    OUTOVER_HIGH,
    OUTOVER_LOW,
    OUTOVER_MASK,
    OUTOVER_SHIFT,
    PWEN,
    PWM_CLOCK_HZ,
    PWM_TICK_NS,
    RNG,
    STA,
    STATUS,
    STRIDE,
)

__all__ = ["NUM_PINS", "PWM_CLOCK_HZ", "Rp1GpioDriver", "Rp1PwmDriver"]


class Rp1GpioDriver:
    """Pins 0..27 of RP1 bank 0. Pin numbers are checked by the callers."""

    def __init__(self, mmio: RegisterBus, base: int) -> None:
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
        self._modify(pin, lambda v: v | (OUTOVER_HIGH << OUTOVER_SHIFT))

    def set_low(self, pin: int) -> None:
        self._modify(
            pin,
            lambda v: (v & ~(OUTOVER_MASK << OUTOVER_SHIFT)) | (OUTOVER_LOW << OUTOVER_SHIFT),
        )

    def read(self, pin: int) -> bool:
        return bool(self.mmio.read(self.base + pin * STRIDE + STATUS) & LEVEL_BIT)

    def enable_interrupt(self, pin: int, rising: bool, falling: bool) -> None:
        mask = (EV_RISE if rising else 0) | (EV_FALL if falling else 0)  # CTRL enables
        self._modify(pin, lambda v: v | mask)

    def disable_interrupt(self, pin: int) -> None:
        self._modify(pin, lambda v: v & ~EVENT_MASK)

    def clear_interrupt(self, pin: int) -> None:
        self._modify(pin, lambda v: v | IRQRESET)

    def pending_events(self, pin: int) -> int:
        return self.mmio.read(self.base + pin * STRIDE + STATUS) & EVENT_MASK


class Rp1PwmDriver:
    """One PWM controller; every change reports a PWM event, as the original's
    `trigger_event` does (which runs the PWM attach point)."""

    def __init__(
        self,
        mmio: RegisterBus,
        base: int,
        chip: int,
        on_event: Callable[[int, int, int, int, bool], None],
    ) -> None:
        self.mmio = mmio
        self.base = base
        self.chip = chip
        self.on_event = on_event  # (chip, channel, period_ns, duty_ns, enabled)

    def init(self) -> None:
        self.mmio.write(self.base + CTL, 0)
        self.mmio.write(self.base + STA, 0xFF)

    def enable(self, channel: int) -> None:
        ctl = self.base + CTL
        self.mmio.write(ctl, self.mmio.read(ctl) | PWEN[channel] | MSEN[channel])
        self._trigger(channel, True)

    def disable(self, channel: int) -> None:
        ctl = self.base + CTL
        self.mmio.write(ctl, self.mmio.read(ctl) & ~PWEN[channel])  # only PWENn, as the original
        self._trigger(channel, False)

    def set_frequency(self, channel: int, freq_hz: int) -> None:
        if freq_hz == 0:
            return
        self.mmio.write(self.base + RNG[channel], (PWM_CLOCK_HZ // freq_hz) & 0xFFFF_FFFF)
        self._trigger(channel, True)

    def set_duty_cycle(self, channel: int, percent: int) -> None:
        rng = self.mmio.read(self.base + RNG[channel])
        data = (rng * min(percent, 100)) // 100
        self.mmio.write(self.base + DAT[channel], data & 0xFFFF_FFFF)
        self._trigger(channel, True)

    def _trigger(self, channel: int, enabled: bool) -> None:
        period = self.mmio.read(self.base + RNG[channel]) * PWM_TICK_NS
        duty = self.mmio.read(self.base + DAT[channel]) * PWM_TICK_NS
        self.on_event(self.chip, channel, period & 0xFFFF_FFFF, duty & 0xFFFF_FFFF, enabled)
