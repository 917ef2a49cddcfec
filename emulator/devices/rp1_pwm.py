"""RP1 PWM controller (Raspberry Pi 5 has PWM0 and PWM1), two channels each.

The registers axiomOS's `rpi5/pwm.rs` driver uses (BCM2835-style layout; the map is
`kernel.hw.rp1`, shared with the driver): CTL (PWENn, MSENn), STA (write 1 to clear),
RNG1/DAT1, RNG2/DAT2. The range counts 8 ns ticks of the 125 MHz PWM clock; the duty
cycle is DAT/RNG. RNG resets to 0x20 and DAT to 0, the
BCM2835 block's reset values, so a driver that never sets a frequency still gets a
meaningful duty. Changes of a channel's duty percentage, period or enable are reported
on the device-event channel, e.g. `pwm0.1: duty 50%`.
"""

from __future__ import annotations

from emulator.devlog import DeviceEventLog
from kernel.hw.rp1 import CTL, DAT1, DAT2, PWEN, PWM_SIZE, PWM_TICK_NS, RESET_RANGE, RNG1, RNG2, STA

__all__ = ["CTL", "DAT1", "DAT2", "RNG1", "RNG2", "STA", "Rp1Pwm"]


class Rp1Pwm:
    """One controller's register window."""

    SIZE = PWM_SIZE

    def __init__(self, chip: int, events: DeviceEventLog | None = None) -> None:
        self.chip = chip
        self.events = events
        self.ctl = 0
        self.sta = 0
        self.range = {1: RESET_RANGE, 2: RESET_RANGE}
        self.data = {1: 0, 2: 0}
        self._shown = {ch: self._state(ch) for ch in (1, 2)}

    def duty_percent(self, channel: int) -> int:
        rng = self.range[channel]
        return min(100, self.data[channel] * 100 // rng) if rng else 0

    def period_ns(self, channel: int) -> int:
        return self.range[channel] * PWM_TICK_NS

    def enabled(self, channel: int) -> bool:
        return bool(self.ctl & PWEN[channel])

    def _state(self, channel: int) -> tuple[int, int, bool]:
        return self.duty_percent(channel), self.period_ns(channel), self.enabled(channel)

    def read(self, offset: int, size: int = 4) -> int:
        if size != 4 or offset % 4:
            return 0  # 32-bit registers, word access only
        if offset == CTL:
            return self.ctl
        if offset == STA:
            return self.sta
        for channel, (rng, dat) in ((1, (RNG1, DAT1)), (2, (RNG2, DAT2))):
            if offset == rng:
                return self.range[channel]
            if offset == dat:
                return self.data[channel]
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if size != 4 or offset % 4:
            return
        value &= 0xFFFF_FFFF
        if offset == CTL:
            self.ctl = value
        elif offset == STA:
            self.sta &= ~value
        elif offset in (RNG1, RNG2):
            self.range[1 if offset == RNG1 else 2] = value
        elif offset in (DAT1, DAT2):
            self.data[1 if offset == DAT1 else 2] = value
        else:
            return
        for channel in (1, 2):
            self._report(channel)

    def _report(self, channel: int) -> None:
        old, new = self._shown[channel], self._state(channel)
        if old == new:
            return
        self._shown[channel] = new
        if self.events is None:
            return
        name = f"pwm{self.chip}.{channel}"
        if old[1] != new[1]:
            self.events.emit("pwm", f"{name}: period {new[1]} ns")
        if old[2] != new[2]:
            self.events.emit("pwm", f"{name}: {'enabled' if new[2] else 'disabled'}")
        if old[0] != new[0]:
            self.events.emit("pwm", f"{name}: duty {new[0]}%")
