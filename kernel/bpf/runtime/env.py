"""What helpers need from the outside world: `HelperEnv` and `BpfDevices`.

The kernel implements `HelperEnv` (clock, CPU, current task, logging); the board
implements `BpfDevices` (GPIO, PWM, motor stop) and the kernel exposes it as
``env.devices`` -- None on boards without them, which makes those helpers return
-ENODEV. Device methods may raise `BpfError` (e.g. EINVAL for a bad pin); the
helper returns ``-errno``. `NullHelperEnv` and `TestHelperEnv` serve tests/benches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

HELPER_LOG_MODULE = "kernel::bpf::helpers"


class TaskInfo(NamedTuple):
    """The task a program runs on behalf of (helpers 10-12)."""

    pid: int
    tgid: int
    uid: int = 0
    gid: int = 0
    comm: bytes = b""


@runtime_checkable
class BpfDevices(Protocol):
    def gpio_write(self, pin: int, value: int) -> None: ...

    def gpio_read(self, pin: int) -> int: ...

    def pwm_write(self, pwm_id: int, channel: int, duty_percent: int) -> None: ...

    def emergency_stop(self, reason: int) -> None: ...


@runtime_checkable
class HelperEnv(Protocol):
    """Services helpers call. ``log`` levels are "ERROR", "WARN", "INFO", "DEBUG"."""

    devices: BpfDevices | None

    def ktime_ns(self) -> int: ...

    def cpu_id(self) -> int: ...

    def current_task(self) -> TaskInfo | None: ...

    def log(self, level: str, module: str, message: str) -> None: ...


class NullHelperEnv:
    """Time 0, CPU 0, no task, no devices, logs discarded (benchmarks)."""

    devices: BpfDevices | None = None

    def ktime_ns(self) -> int:
        return 0

    def cpu_id(self) -> int:
        return 0

    def current_task(self) -> TaskInfo | None:
        return None

    def log(self, level: str, module: str, message: str) -> None:
        pass


@dataclass
class TestDevices:
    """Records device calls; GPIO pins read back what was written (default 0)."""

    __test__ = False  # not a pytest class

    pins: dict[int, int] = field(default_factory=dict)
    pwm: list[tuple[int, int, int]] = field(default_factory=list)
    stops: list[int] = field(default_factory=list)

    def gpio_write(self, pin: int, value: int) -> None:
        self.pins[pin] = value

    def gpio_read(self, pin: int) -> int:
        return self.pins.get(pin, 0)

    def pwm_write(self, pwm_id: int, channel: int, duty_percent: int) -> None:
        self.pwm.append((pwm_id, channel, duty_percent))

    def emergency_stop(self, reason: int) -> None:
        self.stops.append(reason)


@dataclass
class TestHelperEnv:
    """Deterministic env: ``ktime_ns`` returns ``now_ns`` then advances it by ``tick_ns``."""

    __test__ = False

    now_ns: int = 1_000_000
    tick_ns: int = 0
    cpu: int = 0
    task: TaskInfo | None = None
    devices: BpfDevices | None = field(default_factory=TestDevices)
    logs: list[tuple[str, str, str]] = field(default_factory=list)

    def ktime_ns(self) -> int:
        now = self.now_ns
        self.now_ns += self.tick_ns
        return now

    def cpu_id(self) -> int:
        return self.cpu

    def current_task(self) -> TaskInfo | None:
        return self.task

    def log(self, level: str, module: str, message: str) -> None:
        self.logs.append((level, module, message))

    @property
    def messages(self) -> list[str]:
        return [m for _, _, m in self.logs]
