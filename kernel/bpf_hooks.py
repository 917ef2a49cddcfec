"""The attach points: where the kernel runs BPF programs, with the context ABI.

TIMER on every tick (AArch64 fills the metric fields of BpfContext with the boot
snapshot), SYS_ENTER and
SYS_EXIT around every syscall, SCHED_SWITCH before every context switch, and IIO for
each sample of the simulated accelerometer (polled on the tick).
"""

from __future__ import annotations

from typing import Any

from kernel.abi import (
    SCHED_SWITCH_PAYLOAD,
    SYS_ENTER_PAYLOAD,
    SYS_EXIT_PAYLOAD,
    AttachType,
)
from kernel.bpf.env import TaskInfo
from kernel.bpf.subsystem import BpfSubsystem
from kernel.bpf.vm import make_context
from kernel.drivers.iio import IioAccelDriver
from kernel.hooks import KernelHooks


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
        kernel.bpf = self.bpf

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
        # The metric fields are the boot snapshot (the original copies BOOT_METRICS,
        # recorded once before init); only the latency is measured per tick.
        boot_ms, heap_kb, image_mb = kernel.boot_metrics
        return make_context(
            interrupt_latency_ns=kernel.irq_latency_ns,
            boot_time_ms=boot_ms,
            kernel_heap_kb=heap_kb,
            kernel_image_mb=image_mb,
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
        payload = SYS_EXIT_PAYLOAD.pack(nr & 0xFFFF_FFFF_FFFF_FFFF, result)
        self.bpf.run_hook(AttachType.SYS_EXIT, make_context(), payload)

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        assert self.bpf is not None
        prev_pid = prev.pid if prev is not None else 0
        payload = SCHED_SWITCH_PAYLOAD.pack(0, prev_pid, prev_pid, nxt.pid, nxt.pid)
        self.bpf.run_hook(AttachType.SCHED_SWITCH, make_context(), payload)
