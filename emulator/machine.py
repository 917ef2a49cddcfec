"""The machine: board + clock + the modelled kernel, and the run loop.

The loop is the only place guest time moves: it sizes each CPU slice to end exactly
at the next device deadline, fires expired device timers between slices, and
delivers pending interrupts into the kernel's IRQ entry. Interrupts are taken
between slices while the CPU's IRQ line (`board.cpu_irq`, driven by the interrupt
controller when its output changes) is high: sampling a wire, not scanning the
controller, so a slice that ends without any device change costs nothing here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import stimulus
from emulator.boards import MACHINES, Board, Rpi5Board
from emulator.chardev import CharBackend
from emulator.clock import VirtualClock
from emulator.config import ARCHES, MACHINE_ARCH, MachineConfig
from emulator.cpu import SliceResult, StopReason
from emulator.devices.blockdev import SECTOR_SIZE, BlockDevice
from emulator.devlog import DeviceEventLog, open_device_log
from emulator.trace.setup import Observability
from kernel.config import CmdlineError
from kernel.kernel import BootError, Kernel, KernelConfig

if TYPE_CHECKING:
    from emulator.gdbstub.stub import GdbStub as Debugger

MAX_SLICE_INSNS = 2_000_000
# The members the hot path compares against, read as module globals: on Python 3.11
# every `Enum.MEMBER` read goes through `EnumType.__getattr__`'s slow attribute hook
# (several hundred host instructions; a context switch made about ten of them).
_BUDGET, _DEBUG, _REQUESTED = StopReason.BUDGET, StopReason.DEBUG, StopReason.REQUESTED
HOST_SLICE_US = 10_000


class BadInput(Exception):
    """The user's input cannot be booted (missing or corrupt image, bad init)."""


class RunState(enum.Enum):
    """Why `Machine.run` returned."""

    POWERED_OFF = "powered off"
    TIMEOUT = "timeout"
    PANIC = "panic"
    STOPPED = "stopped"  # the caller's stop condition became true
    QUIT = "quit"  # the monitor's `quit`


class Machine:
    """One emulated computer, booted with `boot()` and driven by `run()`."""

    def __init__(self, config: MachineConfig, console: CharBackend) -> None:
        if config.arch not in ARCHES:
            raise BadInput(f"unknown architecture {config.arch!r} (choose x86_64 or aarch64)")
        board_name = config.board_name()
        if MACHINE_ARCH.get(board_name) is None:
            raise BadInput(f"unknown machine {board_name!r} (choose {', '.join(MACHINES)})")
        if MACHINE_ARCH[board_name] != config.arch:
            raise BadInput(f"machine {board_name} is {MACHINE_ARCH[board_name]}, not {config.arch}")
        self.config = config
        self.clock = VirtualClock(config.clock, config.icount_shift)
        events = _gpio_events(config)
        self.block = _open_disk(config.image_path())
        self.device_log: DeviceEventLog | None = None
        if board_name == "rpi5":
            self.device_log = _device_log(config, self.clock)
            self.board: Board = Rpi5Board(self.clock, console, self.block, self.device_log)
        else:
            self.board = MACHINES[board_name](self.clock, console, self.block)
        try:
            stimulus.schedule(self.board, events)
        except stimulus.StimulusError as err:
            raise BadInput(str(err)) from None
        try:
            kconfig = KernelConfig.from_cmdline(
                config.cmdline, memory=config.memory, trace_syscalls=config.trace_syscalls
            )
        except CmdlineError as err:
            raise BadInput(str(err)) from None
        self.kernel = Kernel(self.board, kconfig)
        self.state: RunState | None = None
        self.cpu_tracer: Any = None  # set by Observability when a tracer wants the CPU track
        # Called between slices (the monitor): may block while the guest is stopped.
        self.between_slices: Callable[[], None] | None = None
        self.quit_requested = False
        self.obs = Observability(self)
        if self.device_log is not None:
            self.device_log.mirror = self.obs.emit
        else:
            self.board.events = self.obs
        try:
            if config.trace is not None:
                self.obs.start_trace(config.trace, list(config.trace_events))
            if config.log_file is not None:
                self.obs.open_log(config.log_file)
            if config.log_items:
                self.obs.set_log_items(list(config.log_items))
        except OSError as err:
            self.obs.close()
            raise BadInput(f"cannot write {err.filename}: {err.strerror}") from None
        self.debugger: Debugger | None = None  # the gdb stub, when one is attached

    def boot(self) -> None:
        try:
            self.kernel.boot()
        except BootError as err:
            raise BadInput(str(err)) from None

    def close(self) -> None:
        """Finish the trace, log and device-event files (idempotent)."""
        self.obs.close()
        if self.device_log is not None:
            self.device_log.close()

    @property
    def exit_status(self) -> int | None:
        return self.kernel.exit_status

    def run(
        self, until_ns: int | None = None, stop_when: Callable[[], bool] | None = None
    ) -> RunState:
        """Run until power-off, panic, guest time `until_ns`, or `stop_when()`."""
        state = self._loop(until_ns, stop_when)
        if self.debugger is not None and state is not RunState.STOPPED:
            self.debugger.machine_ended(state, self.kernel.exit_status)
        return state

    def _loop(self, until_ns: int | None, stop_when: Callable[[], bool] | None) -> RunState:
        clock, kernel, board = self.clock, self.kernel, self.board
        trap = kernel.trap  # the kernel's trap entry points, called directly: hot
        sched = kernel.sched
        irq_line = board.cpu_irq
        dbg = self.debugger
        host = clock.mode == "host"
        while True:
            if self.between_slices is not None:
                self.between_slices()
            if self.quit_requested:
                self.state = RunState.QUIT
                return self.state
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
            # `Kernel.current_context`, inlined: the scheduler is asked only when
            # nothing is running (after a block or a tick), the case of every switch.
            proc = sched.current
            if proc is None:
                proc = sched.pick()
            cpu = proc.cpu if proc is not None else None
            if cpu is None:
                if dbg is not None:
                    dbg.idle()
                if deadline is None:
                    kernel.panic("no runnable process and no pending timer: the machine hung")
                    continue
                if self.cpu_tracer is not None:
                    self.cpu_tracer.cpu_running(None, deadline)
                clock.idle_until(deadline)
            else:
                cap = MAX_SLICE_INSNS
                owner: Any = cpu.owner  # the kernel's Process (the CPU types it as object)
                runs = True
                if owner.restart_deferred:  # `Trap.take_deferred_restart`, inlined
                    owner.restart_deferred = False
                    if dbg is not None or board.context_observers or self.cpu_tracer is not None:
                        trap.rewind_to_trap(cpu)  # watched: re-execute the trap itself
                    else:
                        # Re-issue the woken process's blocked syscall in the kernel,
                        # accounted as the one trap instruction the CPU would have
                        # re-executed (charged before the call, as inside a slice). A
                        # slice follows if the process runs on and no timer is due.
                        start = clock.now_ns()
                        clock.end_slice(1)
                        runs = cpu.reissue_trap()
                        now = clock.now_ns()
                        reissued: Any = cpu.owner
                        reissued.cpu_ns += now - start  # `Kernel.charge_cpu`, inlined
                        if not runs:
                            trap.after_slice(cpu, SliceResult(_REQUESTED, 1))
                        elif deadline is not None and now >= deadline:
                            runs = False  # the timer first
                        cap -= 1  # the trap instruction was this slice's first
                if runs:
                    if self.cpu_tracer is not None:
                        self.cpu_tracer.cpu_running(cpu.owner)
                    if dbg is not None:
                        cap = dbg.before_slice(cpu, cap)
                    if host and cap != 1:
                        clock.begin_slice(cpu)
                        left_us = HOST_SLICE_US
                        if deadline is not None:
                            left_us = max(1, min(left_us, (deadline - now) // 1000))
                        result = cpu.run(timeout_us=left_us)
                    else:
                        result = cpu.run(clock.begin_budgeted_slice(cpu, deadline, cap))
                    # `Kernel.charge_cpu`, inlined; the owner is read again: the slice
                    # may have exec'd or exited its process
                    ended = clock.end_slice(result.executed)
                    owner = cpu.owner
                    if owner is not None:
                        owner.cpu_ns += ended - now
                    deliver = True
                    if dbg is not None and result.reason is StopReason.FAULT:
                        deliver = dbg.on_fault(cpu, result)
                    reason = result.reason
                    if reason is not _BUDGET and reason is not _DEBUG:
                        if deliver:
                            trap.after_slice(cpu, result)
                    if dbg is not None:
                        dbg.after_slice(cpu, result)
            clock.fire_expired()
            if irq_line.level:
                _take_interrupts(self)


def _take_interrupts(machine: Machine) -> None:
    """IRQ entry while the CPU's IRQ line stays high (at most 64 in a row)."""
    line, kernel = machine.board.cpu_irq, machine.kernel
    guard = 0
    while line.level and not kernel.powered_off and guard < 64:
        kernel.interrupt()
        guard += 1


def _gpio_events(config: MachineConfig) -> list[stimulus.GpioEvent]:
    try:
        events = [stimulus.parse_event(text) for text in config.gpio]
        if config.gpio_script is not None:
            events += stimulus.parse_script(config.gpio_script)
    except stimulus.StimulusError as err:
        raise BadInput(str(err)) from None
    return events


def _device_log(config: MachineConfig, clock: VirtualClock) -> DeviceEventLog:
    try:
        return open_device_log(config.device_log, clock.now_ns)
    except OSError as err:
        raise BadInput(f"cannot open device log {config.device_log}: {err.strerror}") from None


def _open_disk(path: Path) -> BlockDevice:
    if not path.exists():
        raise BadInput(f"disk image not found: {path} (build it with `make image`)")
    if not path.is_file():
        raise BadInput(f"disk image is not a regular file: {path}")
    size = path.stat().st_size
    if size == 0 or size % SECTOR_SIZE:
        raise BadInput(f"disk image {path} is {size} bytes, not a whole number of sectors")
    return BlockDevice(path)
