"""The attach points: where the kernel runs BPF programs, with the context ABI.

TIMER on every tick (AArch64 fills the metric fields of BpfContext), SYS_ENTER and
SYS_EXIT around every syscall, SCHED_SWITCH before every context switch, and IIO for
each sample of the simulated accelerometer (polled on the tick).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.abi import (
    SCHED_SWITCH_PAYLOAD,
    SYS_ENTER_PAYLOAD,
    SYS_EXIT_PAYLOAD,
    AttachType,
    Errno,
    SyscallError,
)
from kernel.bpf.env import TaskInfo
from kernel.bpf.errors import BpfError
from kernel.bpf.subsystem import BpfSubsystem
from kernel.bpf.vm import make_context
from kernel.drivers.iio import IioAccelDriver
from kernel.hooks import KernelHooks

_U64_MASK = 0xFFFF_FFFF_FFFF_FFFF


def _as_i64(value: int) -> int:
    """A syscall result as the guest's register holds it, read as a signed i64."""
    value &= _U64_MASK
    return value - (1 << 64) if value >= 1 << 63 else value


class KernelHelperEnv:
    """What BPF helpers see of the kernel: its clock, CPU, current task and log."""

    devices = None  # no GPIO / PWM / motor on the pc and virt boards

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel

    def ktime_ns(self) -> int:
        return self._kernel.platform.clock_ns()

    def cpu_id(self) -> int:
        return 0

    def current_task(self) -> TaskInfo | None:
        kernel = self._kernel
        proc = kernel._in_trap or kernel.sched.current
        if proc is None:
            return None
        return TaskInfo(proc.pid, proc.pid, 0, 0, proc.name.encode()[:15])

    def log(self, level: str, module: str, message: str) -> None:
        self._kernel.log.log(level, module, message)


class BpfHooks(KernelHooks):
    """KernelHooks backed by the BPF subsystem."""

    def __init__(self) -> None:
        super().__init__()
        self.bpf: BpfSubsystem | None = None
        self.iio: IioAccelDriver | None = None
        self._kernel: Any = None
        self.iio_samples = 0

    def init_bpf(self, kernel: Any) -> None:
        self._kernel = kernel
        env = KernelHelperEnv(kernel)
        self.bpf = BpfSubsystem(env, kernel.log.log)
        self.bpf.on_change = self._refresh_flags
        self.bpf.charge = self.bpf.maps.charge = self._charger(kernel)
        kernel.bpf = self.bpf

    @staticmethod
    def _charger(kernel: Any) -> Callable[[int], None]:
        """BPF maps and programs live in host memory: charge them to the `-m` budget."""

        def charge(nbytes: int) -> None:
            try:
                kernel.account.charge(nbytes)
            except SyscallError as err:
                raise BpfError(Errno.ENOMEM, f"BPF object needs {nbytes} bytes: {err}") from None

        return charge

    def init_devices(self, kernel: Any) -> None:
        self.iio = IioAccelDriver(kernel.board.mmio, kernel.platform.iio_base)

    def _refresh_flags(self) -> None:
        bpf = self.bpf
        assert bpf is not None
        self.sys_enter_active = bpf.active(AttachType.SYS_ENTER)
        self.sys_exit_active = bpf.active(AttachType.SYS_EXIT)
        self.sched_switch_active = bpf.active(AttachType.SCHED_SWITCH)

    def _context(self) -> bytes:
        kernel = self._kernel
        if not kernel.platform.timer_context_metrics():
            return make_context()
        return make_context(
            interrupt_latency_ns=kernel.irq_latency_ns,
            boot_time_ms=kernel.platform.clock_ns() // 1_000_000,
            kernel_heap_kb=kernel.heap_bytes // 1024,
            kernel_image_mb=kernel.image_mb,
        )

    def timer_tick(self, kernel: Any) -> None:
        bpf = self.bpf
        assert bpf is not None
        if bpf.active(AttachType.TIMER):
            bpf.run_hook(AttachType.TIMER, self._context(), None)
        sample = self.iio.poll() if self.iio is not None else None
        if sample is not None:
            self.iio_samples += 1
            if bpf.active(AttachType.IIO):
                bpf.run_hook(AttachType.IIO, make_context(), sample.payload())

    def sys_enter(self, nr: int, args: tuple[int, ...]) -> None:
        assert self.bpf is not None
        payload = SYS_ENTER_PAYLOAD.pack(nr & 0xFFFF_FFFF_FFFF_FFFF, *args)
        self.bpf.run_hook(AttachType.SYS_ENTER, make_context(), payload)

    def sys_exit(self, nr: int, result: int) -> None:
        assert self.bpf is not None
        payload = SYS_EXIT_PAYLOAD.pack(nr & _U64_MASK, _as_i64(result))
        self.bpf.run_hook(AttachType.SYS_EXIT, make_context(), payload)

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        assert self.bpf is not None
        prev_pid = prev.pid if prev is not None else 0
        payload = SCHED_SWITCH_PAYLOAD.pack(0, prev_pid, prev_pid, nxt.pid, nxt.pid)
        self.bpf.run_hook(AttachType.SCHED_SWITCH, make_context(), payload)
