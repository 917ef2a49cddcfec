"""What the arch-neutral kernel asks of the architecture code."""

from __future__ import annotations

from typing import Any

from kernel.board import BoardDescription, BoardPort


class Platform:
    """Architecture-specific kernel services, driven through the board's registers.

    Every device address and interrupt number comes from the board's description
    (`self.desc`, the board's memory-map table), looked up by entry name."""

    arch: str
    tick_hz: int
    trap_insn_len: int  # bytes to rewind to re-execute a trap (syscall restart)
    default_log_level: str | None = "INFO"  # None: runtime logging off
    announces_platform = True  # AArch64: log "Platform initialized"

    def __init__(self, board: BoardPort) -> None:
        self.board = board
        self.desc: BoardDescription = board.description

    @property
    def iio_base(self) -> int | None:
        """MMIO base of the simulated IIO accelerometer (None: none on this board)."""
        return self.desc["iio"].address if "iio" in self.desc else None

    @property
    def gpio_base(self) -> int | None:
        """The RP1 GPIO bank (Raspberry Pi 5 only)."""
        return self.desc["rp1-gpio"].address if "rp1-gpio" in self.desc else None

    @property
    def pwm_bases(self) -> tuple[int, ...]:
        """The RP1 PWM controllers, by chip id."""
        bases: list[int] = []
        while f"rp1-pwm{len(bases)}" in self.desc:
            bases.append(self.desc[f"rp1-pwm{len(bases)}"].address)
        return tuple(bases)

    def console_write(self, data: bytes) -> None:
        raise NotImplementedError

    def early_boot(self, log: Any) -> None:
        """Arch lines before the common boot sequence."""

    def mark(self, stage: str) -> None:
        """Raw debug markers a board's kernel writes at boot `stage` (none by default)."""

    def is_gpio_irq(self, irq: int) -> bool:
        return False

    def init_interrupts(self, log: Any) -> None:
        """Program the interrupt controller and the periodic tick."""
        raise NotImplementedError

    def clock_ns(self) -> int:
        """Monotonic nanoseconds from the clocksource."""
        raise NotImplementedError

    def take_irq(self) -> int | None:
        """Acknowledge the highest pending interrupt; None if spurious."""
        raise NotImplementedError

    def timer_irq_latency_ns(self) -> int:
        """How long ago the tick fired, read from the timer hardware at IRQ entry."""
        raise NotImplementedError

    def is_timer_irq(self, irq: int) -> bool:
        raise NotImplementedError

    def end_irq(self, irq: int) -> None:
        """EOI; for the tick, re-arm it if the hardware needs that."""
        raise NotImplementedError

    def where(self, cpu: int, pid: int, percpu_ready: bool) -> str:
        """The `<where>` field of a log line."""
        return "boot"

    def timer_context_metrics(self) -> bool:
        """Whether TIMER programs get the metric fields of BpfContext filled."""
        return False
