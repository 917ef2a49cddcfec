"""The kernel's BPF hooks: where it runs attached programs, with the context ABI.

One hook per attach point: TIMER on every tick (AArch64 fills the metric fields of
BpfContext with the boot snapshot), SYS_ENTER and SYS_EXIT around every syscall,
SCHED_SWITCH before every context switch, and IIO for each sample of the simulated
accelerometer (polled on the tick). On the Raspberry Pi 5 also GPIO (the RP1 GPIO
interrupt: each pin with a latched edge) and PWM (every change a PWM driver makes,
as the original's `trigger_event`), and the device helpers (1000, 1003-1005) drive
the RP1 blocks.

The kernel calls the timer and device hooks unconditionally and the per-event ones
(every syscall, every switch) behind cheap `*_active` flags, so an attach point with
nothing attached costs one attribute test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.abi import (
    GPIO_PAYLOAD,
    PWM_PAYLOAD,
    SCHED_SWITCH_PAYLOAD,
    SYS_ENTER_PAYLOAD,
    SYS_EXIT_PAYLOAD,
    AttachType,
    Errno,
    SyscallError,
)
from kernel.bpf.errors import BpfError
from kernel.bpf.interp.vm import make_context
from kernel.bpf_attach.helper_env import KernelHelperEnv, Rp1Devices
from kernel.bpf_attach.registry import BpfSubsystem
from kernel.drivers.iio import IioAccelDriver
from kernel.drivers.rp1 import NUM_PINS, Rp1GpioDriver, Rp1PwmDriver
from kernel.hw.rp1 import EV_FALL, EV_RISE

_U64_MASK = 0xFFFF_FFFF_FFFF_FFFF
# Read as module globals on the per-event paths: on Python 3.11 every `Enum.MEMBER`
# read goes through `EnumType.__getattr__` (several hundred host instructions).
_SYS_ENTER, _SYS_EXIT = AttachType.SYS_ENTER, AttachType.SYS_EXIT
_SCHED_SWITCH = AttachType.SCHED_SWITCH


def _as_i64(value: int) -> int:
    """A syscall result as the guest's register holds it, read as a signed i64."""
    value &= _U64_MASK
    return value - (1 << 64) if value >= 1 << 63 else value


MAX_PWM_EVENTS_PER_RUN = 256  # a PWM program that writes PWM would otherwise loop forever


class BpfHooks:
    """The kernel's hook points, each running the programs attached to its attach point.

    Boot calls `init_bpf` (the subsystem) then `init_devices` (the drivers the device
    hooks read); the trap path calls `sys_enter`/`sys_exit`, the IRQ path `timer_tick`
    and `device_irq`, the scheduler `sched_switch`; sys_bpf calls `prog_attached`."""

    def __init__(self) -> None:
        self.sys_enter_active = False
        self.sys_exit_active = False
        self.sched_switch_active = False
        self.bpf: BpfSubsystem | None = None
        self.iio: IioAccelDriver | None = None
        self.gpio: Rp1GpioDriver | None = None
        self.pwm: list[Rp1PwmDriver] = []
        self._kernel: Any = None
        self._env: KernelHelperEnv | None = None
        self.iio_samples = 0
        self.gpio_events = 0
        self.pwm_events = 0
        self._pwm_queue: list[bytes] = []
        self._sys_enter_buf = bytearray(SYS_ENTER_PAYLOAD.size)
        self._sys_exit_buf = bytearray(SYS_EXIT_PAYLOAD.size)
        self._sched_switch_buf = bytearray(SCHED_SWITCH_PAYLOAD.size)
        self._pwm_draining = False

    def init_bpf(self, kernel: Any) -> None:
        self._kernel = kernel
        env = self._env = KernelHelperEnv(kernel)
        self.bpf = BpfSubsystem(env, kernel.log.log)
        self.bpf.ns_per_insn = kernel.clock.ns_per_insn
        self.bpf.tracer = kernel.tracer
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
        platform, mmio = kernel.platform, kernel.board.mmio
        if platform.iio_base is not None:
            self.iio = IioAccelDriver(mmio, platform.iio_base)
        if platform.gpio_base is not None:
            self.gpio = Rp1GpioDriver(mmio, platform.gpio_base)
            self.pwm = [
                Rp1PwmDriver(mmio, base, chip, self._pwm_event)
                for chip, base in enumerate(platform.pwm_bases)
            ]
            for pwm in self.pwm:
                pwm.init()
            assert self._env is not None
            self._env.devices = Rp1Devices(self.gpio, self.pwm)

    # ---------------------------------------------------------------- GPIO / PWM

    def device_irq(self, kernel: Any, irq: int) -> None:
        """The RP1 GPIO interrupt: one GPIO hook run per pin with a latched edge."""
        gpio, bpf = self.gpio, self.bpf
        if gpio is None or bpf is None or not kernel.platform.is_gpio_irq(irq):
            return
        timestamp = kernel.platform.clock_ns()
        for pin in range(NUM_PINS):
            events = gpio.pending_events(pin)
            if not events:
                continue
            rising, falling = bool(events & EV_RISE), bool(events & EV_FALL)
            edge = (1 if rising else 0) | (2 if falling else 0)
            if edge == 0:  # a level event only: not a GPIO hook event
                gpio.clear_interrupt(pin)
                continue
            value = int(gpio.read(pin))
            gpio.clear_interrupt(pin)
            self.gpio_events += 1
            payload = GPIO_PAYLOAD.pack(timestamp, 0, pin, edge, value)
            bpf.run_hook(AttachType.GPIO, make_context(), payload)

    def _pwm_event(self, chip: int, channel: int, period: int, duty: int, enabled: bool) -> None:
        """A PWM driver changed a channel: queue the PWM hook run. Runs are drained in
        order after the current one, so a PWM program that writes PWM cannot recurse."""
        kernel = self._kernel
        timestamp = kernel.platform.clock_ns()
        payload = PWM_PAYLOAD.pack(timestamp, chip, channel, period, duty, 0, int(enabled))
        self._pwm_queue.append(payload)
        if self._pwm_draining:
            return
        self._pwm_draining = True
        try:
            runs = 0
            while self._pwm_queue:
                payload = self._pwm_queue.pop(0)
                runs += 1
                if runs > MAX_PWM_EVENTS_PER_RUN:
                    dropped = len(self._pwm_queue) + 1
                    self._pwm_queue.clear()
                    kernel.log.warn(
                        "kernel::bpf",
                        f"PWM BPF Hook: {dropped} events dropped (PWM programs writing PWM)",
                    )
                    break
                self.pwm_events += 1
                if self.bpf is not None and self.bpf.active(AttachType.PWM):
                    self.bpf.run_hook(AttachType.PWM, make_context(), payload)
        finally:
            self._pwm_draining = False

    def prog_attached(self, kind: int, key: int, value: int) -> None:
        """GPIO attach: make the pin an input and enable its edge interrupts, as the
        original's PROG_ATTACH does on the Pi 5 (key = pin, value = 1 rising, 2 falling,
        0 or 3 both)."""
        gpio, kernel = self.gpio, self._kernel
        if kind != AttachType.GPIO or gpio is None:
            return
        pin = key & 0xFF
        if pin >= NUM_PINS:
            kernel.log.warn(
                "kernel::syscall::bpf", f"sys_bpf: invalid GPIO pin {pin} (must be 0-27)"
            )
            return
        rising, falling = bool(value & 1), bool(value & 2)
        if not rising and not falling:
            rising = falling = True
        gpio.configure_input(pin)
        gpio.enable_interrupt(pin, rising, falling)
        kernel.log.info(
            "kernel::syscall::bpf",
            f"sys_bpf: enabled GPIO{pin} interrupt "
            f"(rising={str(rising).lower()}, falling={str(falling).lower()})",
        )

    def _refresh_flags(self) -> None:
        """After an attach or detach: the flags, and each per-event hook's runner (the
        registry's `fast_path` for its common case, else the method below)."""
        bpf = self.bpf
        assert bpf is not None
        self.sys_enter_active = bpf.active(_SYS_ENTER)
        self.sys_exit_active = bpf.active(_SYS_EXIT)
        self.sched_switch_active = bpf.active(_SCHED_SWITCH)
        for name, kind in (
            ("sys_enter", _SYS_ENTER),
            ("sys_exit", _SYS_EXIT),
            ("sched_switch", _SCHED_SWITCH),
        ):
            fast = bpf.fast_path(kind, getattr(BpfHooks, name).__get__(self))
            if fast is None:
                self.__dict__.pop(name, None)  # the method
            else:
                setattr(self, name, fast)  # an instance attribute hides the method

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
            if kernel.tracer.irq:
                kernel.tracer.iio_sample(sample.payload())
            if bpf.active(AttachType.IIO):
                bpf.run_hook(AttachType.IIO, make_context(), sample.payload())

    # The per-event hooks pack into one buffer each, reused run after run (the VM
    # keeps its read-only view), and pass no context: None is the all-zero one.

    # Filling is skipped when no attached program can read memory at all.

    def sys_enter(self, nr: int, args: tuple[int, ...]) -> None:
        bpf, buf = self.bpf, self._sys_enter_buf
        if bpf.reads_memory[_SYS_ENTER]:  # type: ignore[union-attr]
            SYS_ENTER_PAYLOAD.pack_into(buf, 0, nr & _U64_MASK, *args)
        bpf.run_hook(_SYS_ENTER, None, buf)  # type: ignore[union-attr]

    def sys_exit(self, nr: int, result: int) -> None:
        bpf, buf = self.bpf, self._sys_exit_buf
        if bpf.reads_memory[_SYS_EXIT]:  # type: ignore[union-attr]
            SYS_EXIT_PAYLOAD.pack_into(buf, 0, nr & _U64_MASK, _as_i64(result))
        bpf.run_hook(_SYS_EXIT, None, buf)  # type: ignore[union-attr]

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        bpf, buf = self.bpf, self._sched_switch_buf
        if bpf.reads_memory[_SCHED_SWITCH]:  # type: ignore[union-attr]
            prev_pid = prev.pid if prev is not None else 0
            SCHED_SWITCH_PAYLOAD.pack_into(buf, 0, 0, prev_pid, prev_pid, nxt.pid, nxt.pid)
        bpf.run_hook(_SCHED_SWITCH, None, buf)  # type: ignore[union-attr]
