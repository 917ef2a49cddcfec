"""The machine: board + clock + the modelled kernel, and the run loop.

The loop is the only place guest time moves: it sizes each CPU slice to end exactly
at the next device deadline, fires expired device timers between slices, and
delivers pending interrupts into the kernel's IRQ entry.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

from emulator.boards import BOARDS, Board
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.config import ARCHES, MachineConfig
from emulator.cpu import StopReason
from emulator.devices.blockdev import SECTOR_SIZE, BlockDevice
from kernel.config import CmdlineError
from kernel.kernel import BootError, Kernel, KernelConfig

MAX_SLICE_INSNS = 2_000_000
HOST_SLICE_US = 10_000


class BadInput(Exception):
    """The user's input cannot be booted (missing or corrupt image, bad init)."""


class RunState(enum.Enum):
    """Why `Machine.run` returned."""

    POWERED_OFF = "powered off"
    TIMEOUT = "timeout"
    PANIC = "panic"
    STOPPED = "stopped"  # the caller's stop condition became true


class Machine:
    """One emulated computer, booted with `boot()` and driven by `run()`."""

    def __init__(self, config: MachineConfig, console: CharBackend) -> None:
        if config.arch not in ARCHES:
            raise BadInput(f"unknown architecture {config.arch!r} (choose x86_64 or aarch64)")
        self.config = config
        self.clock = VirtualClock(config.clock, config.icount_shift)
        self.block = _open_disk(config.image_path())
        self.board: Board = BOARDS[config.arch](self.clock, console, self.block)
        try:
            kconfig = KernelConfig.from_cmdline(
                config.cmdline, memory=config.memory, trace_syscalls=config.trace_syscalls
            )
        except CmdlineError as err:
            raise BadInput(str(err)) from None
        self.kernel = Kernel(self.board, kconfig)
        self.state: RunState | None = None

    def boot(self) -> None:
        try:
            self.kernel.boot()
        except BootError as err:
            raise BadInput(str(err)) from None

    @property
    def exit_status(self) -> int | None:
        return self.kernel.exit_status

    def run(
        self, until_ns: int | None = None, stop_when: Callable[[], bool] | None = None
    ) -> RunState:
        """Run until power-off, panic, guest time `until_ns`, or `stop_when()`."""
        clock, kernel, board = self.clock, self.kernel, self.board
        host = clock.mode == "host"
        while True:
            if kernel.panicked:
                self.state = RunState.PANIC
                return self.state
            if kernel.powered_off:
                self.state = RunState.POWERED_OFF
                return self.state
            if stop_when is not None and stop_when():
                self.state = RunState.STOPPED
                return self.state
            now = clock.now_ns()
            if until_ns is not None and now >= until_ns:
                self.state = RunState.TIMEOUT
                return self.state
            deadline = clock.next_deadline()
            if until_ns is not None and (deadline is None or deadline > until_ns):
                deadline = until_ns
            cpu = kernel.current_context()
            if cpu is None:
                if deadline is None:
                    kernel.panic("no runnable process and no pending timer: the machine hung")
                    continue
                clock.idle_until(deadline)
            else:
                clock.begin_slice(cpu)
                if host:
                    left_us = HOST_SLICE_US
                    if deadline is not None:
                        left_us = max(1, min(left_us, (deadline - now) // 1000))
                    result = cpu.run(timeout_us=left_us)
                else:
                    result = cpu.run(clock.budget_until(deadline, MAX_SLICE_INSNS))
                clock.end_slice(result.executed)
                if result.reason is not StopReason.BUDGET:
                    kernel.after_slice(cpu, result)
            clock.fire_expired()
            guard = 0
            while board.irq_pending() and not kernel.powered_off and guard < 64:
                kernel.interrupt()
                guard += 1


def _open_disk(path: Path) -> BlockDevice:
    if not path.exists():
        raise BadInput(f"disk image not found: {path} (build it with `make image`)")
    if not path.is_file():
        raise BadInput(f"disk image is not a regular file: {path}")
    size = path.stat().st_size
    if size == 0 or size % SECTOR_SIZE:
        raise BadInput(f"disk image {path} is {size} bytes, not a whole number of sectors")
    return BlockDevice(path)
