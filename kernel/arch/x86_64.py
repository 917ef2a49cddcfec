"""x86_64: COM1 console, LAPIC periodic tick (vector 0x20, 200 Hz), HPET clock.

The LAPIC, HPET and COM1 addresses come from the board's table (`lapic`, `hpet`,
`com1`); the tick's vector is the kernel's own choice, programmed into the LVT."""

from __future__ import annotations

from typing import Any

from kernel.arch.base import Platform
from kernel.board import BoardPort
from kernel.drivers.console import Uart16550Console
from kernel.hw.hpet import GEN_CONF, GEN_CONF_ENABLE, MAIN_COUNTER
from kernel.hw.lapic import (
    DIVIDE_16,
    EOI,
    LVT_MODE_PERIODIC,
    LVT_TIMER,
    SVR,
    SVR_APIC_ENABLED,
    TIMER_CURRENT,
    TIMER_DIVIDE,
    TIMER_INITIAL,
)

TIMER_VECTOR = 0x20
SPURIOUS_VECTOR = 0xFF
INITIAL_COUNT = 312_500


class X86_64Platform(Platform):
    arch = "x86_64"
    tick_hz = 200
    trap_insn_len = 2  # int 0x80

    def __init__(self, board: BoardPort) -> None:
        super().__init__(board)
        self._console = Uart16550Console(board.io, self.desc["com1"].address)
        self.lapic = self.desc["lapic"].address
        self.hpet = self.desc["hpet"].address

    def console_write(self, data: bytes) -> None:
        self._console.write(data)

    def init_interrupts(self, log: Any) -> None:
        mmio, lapic = self.board.mmio, self.lapic
        mmio.write(lapic + SVR, SVR_APIC_ENABLED | SPURIOUS_VECTOR)
        mmio.write(lapic + TIMER_DIVIDE, DIVIDE_16)
        mmio.write(lapic + LVT_TIMER, LVT_MODE_PERIODIC | TIMER_VECTOR)
        mmio.write(lapic + TIMER_INITIAL, INITIAL_COUNT)  # 312500 * 16 / 1 GHz = 5 ms
        mmio.write(self.hpet + GEN_CONF, GEN_CONF_ENABLE)  # HPET main counter on

    def clock_ns(self) -> int:
        return self.board.mmio.read(self.hpet + MAIN_COUNTER, 8)  # 64-bit, 1 ns period

    def take_irq(self) -> int | None:
        return self.board.acknowledge_irq()

    def timer_irq_latency_ns(self) -> int:
        mmio, lapic = self.board.mmio, self.lapic
        elapsed_counts = mmio.read(lapic + TIMER_INITIAL) - mmio.read(lapic + TIMER_CURRENT)
        return elapsed_counts * 16  # divide 16 at a 1 GHz bus: 16 ns per count

    def is_timer_irq(self, irq: int) -> bool:
        return irq == TIMER_VECTOR

    def end_irq(self, irq: int) -> None:
        self.board.mmio.write(self.lapic + EOI, 0)

    def where(self, cpu: int, pid: int, percpu_ready: bool) -> str:
        return f"cpu{cpu} pid{pid:>3}" if percpu_ready else "boot"
