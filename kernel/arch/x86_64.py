"""x86_64: COM1 console, LAPIC periodic tick (vector 0x20, 200 Hz), HPET clock."""

from __future__ import annotations

from typing import Any

from kernel.arch.base import Platform
from kernel.drivers.console import Uart16550Console

LAPIC = 0xFEE0_0000
HPET = 0xFED0_0000
IIO = 0xFEB0_0000
TIMER_VECTOR = 0x20
SPURIOUS_VECTOR = 0xFF
INITIAL_COUNT = 312_500
DIVIDE_16 = 0b0011
LVT_PERIODIC = 1 << 17


class X86_64Platform(Platform):
    arch = "x86_64"
    tick_hz = 200
    trap_insn_len = 2  # int 0x80
    iio_base = IIO

    def __init__(self, board: Any) -> None:
        super().__init__(board)
        self._console = Uart16550Console(board.io)

    def console_write(self, data: bytes) -> None:
        self._console.write(data)

    def init_interrupts(self, log: Any) -> None:
        mmio = self.board.mmio
        mmio.write(LAPIC + 0x0F0, 0x100 | SPURIOUS_VECTOR)  # SVR: APIC enabled
        mmio.write(LAPIC + 0x3E0, DIVIDE_16)
        mmio.write(LAPIC + 0x320, LVT_PERIODIC | TIMER_VECTOR)
        mmio.write(LAPIC + 0x380, INITIAL_COUNT)  # 312500 * 16 / 1 GHz = 5 ms
        mmio.write(HPET + 0x010, 1)  # HPET main counter on

    def clock_ns(self) -> int:
        return self.board.mmio.read(HPET + 0x0F0, 8)  # 64-bit counter, 1 ns period

    def take_irq(self) -> int | None:
        return self.board.lapic.acknowledge()

    def timer_irq_latency_ns(self) -> int:
        mmio = self.board.mmio
        elapsed_counts = mmio.read(LAPIC + 0x380) - mmio.read(LAPIC + 0x390)
        return elapsed_counts * 16  # divide 16 at a 1 GHz bus: 16 ns per count

    def is_timer_irq(self, irq: int) -> bool:
        return irq == TIMER_VECTOR

    def end_irq(self, irq: int) -> None:
        self.board.mmio.write(LAPIC + 0x0B0, 0)

    def where(self, cpu: int, pid: int, percpu_ready: bool) -> str:
        return f"cpu{cpu} pid{pid:>3}" if percpu_ready else "boot"
