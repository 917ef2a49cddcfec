"""HPET: only the main counter, which the x86 kernel reads as its clocksource.

The counter period is 1 ns (1 000 000 fs), so time is exact nanoseconds.
"""

from __future__ import annotations

from emulator.clock import VirtualClock
from kernel.hw import hpet as regs
from kernel.hw.hpet import GCAP_ID, GEN_CONF, GEN_CONF_ENABLE, MAIN_COUNTER, PERIOD_FS


class Hpet:
    """High Precision Event Timer, main counter only (no comparators)."""

    SIZE = regs.SIZE

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.enabled = False
        self._offset_ns = 0

    def read(self, offset: int, size: int = 4) -> int:
        """64-bit registers, read whole (size 8) or as 32-bit halves (size 4)."""
        if size not in (4, 8) or offset % size:
            return 0
        value = self._register(offset & ~7)
        return (value >> (8 * (offset & 7))) & ((1 << 8 * size) - 1)

    def _register(self, offset: int) -> int:
        if offset == GCAP_ID:
            return (PERIOD_FS << 32) | 0x8086_A201  # vendor, 64-bit counter, rev 1
        if offset == GEN_CONF:
            return GEN_CONF_ENABLE if self.enabled else 0
        if offset == MAIN_COUNTER:
            return self.clock.now_ns() - self._offset_ns if self.enabled else 0
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if size not in (4, 8) or offset % size:
            return
        if offset == GEN_CONF:
            if value & GEN_CONF_ENABLE and not self.enabled:
                self._offset_ns = 0
            self.enabled = bool(value & GEN_CONF_ENABLE)
