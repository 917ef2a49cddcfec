"""A simulated IIO accelerometer (device 0, channel 0 = AccelX).

It takes one sample every `period_ns` (the boards choose 100 timer ticks: 500 ms on
`pc`, 1 s on `virt`); sample k reads (k * 137) mod 1000, so values cycle through
0..999 and hit every residue. The register map is `kernel.hw.iio` (shared with the
kernel's driver); SCALE reads 1 000 000 and OFFSET 0.
"""

from __future__ import annotations

from emulator.clock import VirtualClock
from kernel.hw import iio as regs
from kernel.hw.iio import (
    COUNT,
    CTRL,
    CTRL_ENABLE,
    DATA,
    DEVICE_ID,
    ID,
    OFFSET,
    SCALE,
    STATUS,
    STATUS_READY,
    TS_HI,
    TS_LO,
)

VALUE_STEP = 137


class IioAccelerometer:
    """Samples on its own timer once enabled; the driver polls STATUS."""

    SIZE = regs.SIZE

    def __init__(self, clock: VirtualClock, period_ns: int) -> None:
        self.clock = clock
        self.period_ns = period_ns
        self._timer = clock.timer(self._sample)
        self.enabled = False
        self.ready = False
        self.count = 0
        self.value = 0
        self.timestamp = 0

    def _sample(self, deadline: int) -> None:
        self.value = (self.count * VALUE_STEP) % 1000
        self.timestamp = deadline
        self.count += 1
        self.ready = True
        self._timer.arm(deadline + self.period_ns)

    def read(self, offset: int, size: int = 4) -> int:
        if size != 4 or offset % 4:
            return 0  # 32-bit registers, word access only
        if offset == ID:
            return DEVICE_ID
        if offset == CTRL:
            return CTRL_ENABLE if self.enabled else 0
        if offset == STATUS:
            return STATUS_READY if self.ready else 0
        if offset == DATA:
            self.ready = False
            return self.value & 0xFFFF_FFFF
        if offset == SCALE:
            return 1_000_000
        if offset == OFFSET:
            return 0
        if offset == TS_LO:
            return self.timestamp & 0xFFFF_FFFF
        if offset == TS_HI:
            return self.timestamp >> 32
        if offset == COUNT:
            return self.count
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if size != 4 or offset % 4:
            return
        if offset == CTRL:
            enable = bool(value & CTRL_ENABLE)
            if enable and not self.enabled:
                self._timer.arm(self.clock.now_ns() + self.period_ns)
            elif not enable:
                self._timer.cancel()
            self.enabled = enable
