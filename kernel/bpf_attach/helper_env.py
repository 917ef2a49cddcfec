"""What BPF helpers see of the kernel: its clock, CPU, current task, log and devices.

The library's helpers reach the outside world only through `HelperEnv` and
`BpfDevices` (kernel/bpf/runtime/env.py); these are the kernel's implementations.
"""

from __future__ import annotations

from typing import Any

from kernel.abi import Errno
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.env import BpfDevices, TaskInfo
from kernel.drivers.rp1 import NUM_PINS, Rp1GpioDriver, Rp1PwmDriver


class KernelHelperEnv:
    """What BPF helpers see of the kernel: its clock, CPU, current task and log."""

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel
        self.devices: BpfDevices | None = None  # set on boards with GPIO / PWM (rpi5)

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


class Rp1Devices:
    """The device helpers on the Raspberry Pi 5 (BpfDevices), through the drivers.

    `emergency_stop` sets every PWM channel's duty to 0, exactly as the original: it
    does not latch, so a program that writes the duty again (the original safety_demo's
    timer program does, every tick) restarts the motor, as on the real board."""

    def __init__(self, gpio: Rp1GpioDriver, pwm: list[Rp1PwmDriver]) -> None:
        self.gpio = gpio
        self.pwm = pwm

    @staticmethod
    def _pin(pin: int) -> int:
        if not 0 <= pin < NUM_PINS:
            raise BpfError(Errno.EINVAL, f"GPIO pin {pin} is not 0..{NUM_PINS - 1}")
        return pin

    def gpio_write(self, pin: int, value: int) -> None:
        if value:
            self.gpio.set_high(self._pin(pin))
        else:
            self.gpio.set_low(self._pin(pin))

    def gpio_read(self, pin: int) -> int:
        return int(self.gpio.read(self._pin(pin)))

    def pwm_write(self, pwm_id: int, channel: int, duty_percent: int) -> None:
        self.pwm[pwm_id].set_duty_cycle(channel, duty_percent)

    def emergency_stop(self, reason: int) -> None:
        for pwm in self.pwm:
            pwm.set_duty_cycle(1, 0)
            pwm.set_duty_cycle(2, 0)
