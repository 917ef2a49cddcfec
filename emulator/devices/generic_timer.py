"""ARM generic timer: the EL1 physical timer and the virtual counter.

System registers CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0, CNTP_CVAL_EL0, CNTP_TVAL_EL0 and
CNTP_CTL_EL0 (ENABLE bit 0, IMASK bit 1, ISTATUS bit 2). The counter runs at 1 GHz
(as ARMv8.6 requires), so counts are exact nanoseconds. While the timer condition
holds and the interrupt is unmasked, the PPI output line is asserted (level).
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.clock import VirtualClock
from kernel.hw.generic_timer import CTL_ENABLE, CTL_IMASK, CTL_ISTATUS, PHYS_TIMER_PPI

__all__ = ["CTL_ENABLE", "CTL_IMASK", "CTL_ISTATUS", "PHYS_TIMER_PPI", "GenericTimer"]


class GenericTimer:
    """The per-CPU timer; `irq_line(level)` drives an interrupt controller input."""

    def __init__(
        self,
        clock: VirtualClock,
        irq_line: Callable[[bool], None],
        frequency_hz: int = 1_000_000_000,
    ) -> None:
        self.clock = clock
        self.frequency = frequency_hz
        self.irq_line = irq_line
        self._timer = clock.timer(self._fire)
        self.ctl = 0
        self.cval = 0

    def counter(self) -> int:
        return self.clock.now_ns() * self.frequency // 1_000_000_000

    def read_sysreg(self, name: str) -> int:
        if name == "CNTFRQ_EL0":
            return self.frequency
        if name in ("CNTPCT_EL0", "CNTVCT_EL0"):
            return self.counter()
        if name == "CNTP_CVAL_EL0":
            return self.cval
        if name == "CNTP_TVAL_EL0":
            return (self.cval - self.counter()) & 0xFFFF_FFFF
        if name == "CNTP_CTL_EL0":
            status = CTL_ISTATUS if self._condition() else 0
            return (self.ctl & (CTL_ENABLE | CTL_IMASK)) | status
        raise KeyError(f"generic timer: unknown system register {name}")

    def write_sysreg(self, name: str, value: int) -> None:
        if name == "CNTP_CVAL_EL0":
            self.cval = value & 0xFFFF_FFFF_FFFF_FFFF
        elif name == "CNTP_TVAL_EL0":
            tval = value & 0xFFFF_FFFF
            tval = tval - (1 << 32) if tval & 0x8000_0000 else tval
            self.cval = (self.counter() + tval) & 0xFFFF_FFFF_FFFF_FFFF
        elif name == "CNTP_CTL_EL0":
            self.ctl = value & (CTL_ENABLE | CTL_IMASK)
        else:
            raise KeyError(f"generic timer: register {name} is not writable")
        self._update()

    def _condition(self) -> bool:
        return bool(self.ctl & CTL_ENABLE) and self.counter() >= self.cval

    def _update(self) -> None:
        asserted = self._condition() and not self.ctl & CTL_IMASK
        self.irq_line(asserted)
        if self.ctl & CTL_ENABLE and not self._condition():
            # deadline in ns of the counter reaching CVAL
            self._timer.arm(-(-self.cval * 1_000_000_000 // self.frequency))
        else:
            self._timer.cancel()

    def _fire(self, _deadline: int) -> None:
        self._update()
