"""Local APIC: the timer (LVT timer, initial/current count, divide) and EOI.

Register offsets are those of the xAPIC MMIO page. The timer counts down at the APIC
bus frequency divided by the divide configuration; in periodic mode it reloads from
the initial count. An expiry makes the LVT vector pending (IRR); the kernel's IRQ
entry takes it and writes EOI. The APIC's interrupt request to its CPU core (INTR)
is a callback, called whenever it changes: high while a vector is requested.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.clock import VirtualClock
from kernel.hw import lapic as regs
from kernel.hw.lapic import (
    EOI,
    ID,
    IRR_BASE,
    ISR_BASE,
    LVT_MASKED,
    LVT_MODE_PERIODIC,
    LVT_TIMER,
    SVR,
    TIMER_CURRENT,
    TIMER_DIVIDE,
    TIMER_INITIAL,
    TPR,
    VERSION,
)

_DIVIDE = {
    0b0000: 2,
    0b0001: 4,
    0b0010: 8,
    0b0011: 16,
    0b1000: 32,
    0b1001: 64,
    0b1010: 128,
    0b1011: 1,
}


class LocalApic:
    """One CPU's local APIC (the timer and the interrupt request/service state)."""

    SIZE = regs.SIZE

    def __init__(
        self,
        clock: VirtualClock,
        bus_hz: int = 1_000_000_000,
        apic_id: int = 0,
        irq_out: Callable[[bool], None] | None = None,
    ) -> None:
        self.irq_out = irq_out or (lambda _level: None)  # INTR of the CPU core
        self._out = False
        self.clock = clock
        self.bus_hz = bus_hz
        self.apic_id = apic_id
        self._timer = clock.timer(self._expire)
        self.reset()

    def reset(self) -> None:
        self.lvt_timer = LVT_MASKED
        self.initial = 0
        self.divide_conf = 0
        self.svr = 0xFF
        self.tpr = 0
        self.irr: set[int] = set()
        self.isr: list[int] = []
        self._start_ns = 0
        self._timer.cancel()
        self.expirations = 0
        self._update()

    def _update(self) -> None:
        out = bool(self.irr)
        if out != self._out:
            self._out = out
            self.irq_out(out)

    @property
    def divisor(self) -> int:
        return _DIVIDE[self.divide_conf & 0b1011]  # bits 0, 1 and 3 select the divisor

    def period_ns(self) -> int:
        return self.initial * self.divisor * 1_000_000_000 // self.bus_hz

    # ------------------------------------------------------------ registers

    def read(self, offset: int, size: int = 4) -> int:
        if size != 4 or offset % 16:
            return 0  # xAPIC registers take aligned 32-bit accesses only (SDM 11.4.1)
        if offset == ID:
            return self.apic_id << 24
        if offset == VERSION:
            return 0x00050014  # version 0x14, 6 LVT entries
        if offset == TPR:
            return self.tpr
        if offset == SVR:
            return self.svr
        if offset == LVT_TIMER:
            return self.lvt_timer
        if offset == TIMER_INITIAL:
            return self.initial
        if offset == TIMER_CURRENT:
            return self._current_count()
        if offset == TIMER_DIVIDE:
            return self.divide_conf
        if IRR_BASE <= offset < IRR_BASE + 0x80:
            return self._bits(self.irr, (offset - IRR_BASE) // 0x10)
        if ISR_BASE <= offset < ISR_BASE + 0x80:
            return self._bits(set(self.isr), (offset - ISR_BASE) // 0x10)
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if size != 4 or offset % 16:
            return
        value &= 0xFFFF_FFFF
        if offset == EOI:
            if self.isr:
                self.isr.remove(max(self.isr))  # EOI retires the highest in-service vector
        elif offset == TPR:
            self.tpr = value & 0xFF
        elif offset == SVR:
            self.svr = value
        elif offset == LVT_TIMER:
            self.lvt_timer = value
            if value & LVT_MODE_PERIODIC or self._timer.deadline is not None:
                self._rearm()  # an expired one-shot count stays expired
        elif offset == TIMER_INITIAL:
            self.initial = value
            self._start_ns = self.clock.now_ns()
            self._rearm()
        elif offset == TIMER_DIVIDE:
            self.divide_conf = value & 0b1011

    @staticmethod
    def _bits(vectors: set[int], word: int) -> int:
        return sum(1 << (v - word * 32) for v in vectors if word * 32 <= v < word * 32 + 32)

    # ------------------------------------------------------------ timer

    def _current_count(self) -> int:
        period = self.period_ns()
        if not period:
            return 0
        elapsed = self.clock.now_ns() - self._start_ns
        if elapsed >= period and not self.lvt_timer & LVT_MODE_PERIODIC:
            return 0
        remaining = period - elapsed % period
        return remaining * self.bus_hz // (self.divisor * 1_000_000_000)

    def _rearm(self) -> None:
        period = self.period_ns()
        if period:
            self._timer.arm(self._start_ns + period)
        else:
            self._timer.cancel()

    def _expire(self, deadline: int) -> None:
        self.expirations += 1
        if not self.lvt_timer & LVT_MASKED:
            self.irr.add(self.lvt_timer & 0xFF)
            self._update()
        if self.lvt_timer & LVT_MODE_PERIODIC:
            self._start_ns = deadline
            self._timer.arm(deadline + self.period_ns())

    # ------------------------------------------------------------ delivery

    def pending(self) -> bool:
        return bool(self.irr)

    def acknowledge(self) -> int | None:
        """The CPU takes the highest pending vector: IRR -> ISR."""
        if not self.irr:
            return None
        vector = max(self.irr)
        self.irr.discard(vector)
        self.isr.append(vector)
        self._update()
        return vector
