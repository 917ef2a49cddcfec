"""The rpi5 board: its console, and the original's GPIO, PWM and safety demos driven
from outside (`--gpio` events, the test API), observed on the device-event channel."""

from __future__ import annotations

import itertools
import re

import pytest

from emulator.testing import boot
from kernel.abi import AttachType
from kernel.bpf.isa.asm import assemble_bytes

MARKERS = "{|}~1234567abyzZcdenrRAJKLTUMNOPBCDEFGHIsopqfghijklRm"
METRICS = "\nAXIOM KERNEL METRICS\nBoot to init: 0 ms\nKernel heap: 256 KB\nKernel image: 1 MB\n\n"
INIT = (
    "=== Axiom eBPF Init ===\nHello, axiom-ebpf!\nSpawning /bin/{0}...\nSpawned {0} with PID: 2\n"
)

SAFETY_OUTPUT = """
========================================
  Axiom Safety Interlock Demo
========================================

This demo proves: kernel-level BPF safety interlocks
survive userspace exit. The interrupt -> BPF -> hardware
path has ZERO userspace dependency.

[1/4] Starting motor (PWM0 Ch1 @ 50% duty)...
  Motor program loaded (ID: 0)
  Motor running on timer hook. PWM active.

[2/4] Loading E-Stop BPF program...
  E-Stop program loaded (ID: 1)
  Actions: bpf_motor_emergency_stop + bpf_trace_printk

[3/4] Attaching E-Stop to GPIO 22 (rising edge)...
  E-Stop attached. GPIO interrupt armed.

[4/4] Safety interlock ARMED.

  Motor:     PWM0 Ch1 @ 50% (via timer BPF hook)
  E-Stop:    GPIO 22 rising edge -> bpf_motor_emergency_stop
  Trace:     Kernel log will show 'SAFETY: Motor stop!'

  >> Userspace will now EXIT. <<
  >> Safety interlock remains active in the kernel. <<
  >> Trigger limit switch on GPIO 22 to stop motor. <<

========================================
  Exiting userspace. BPF persists.
========================================
"""

GPIO_OUTPUT = """=== GPIO Interactivity Demo ===
Setting up BPF program for Button (GPIO 17) -> LED (GPIO 18)
Loading BPF program...
Program loaded. ID: 0
Attaching to GPIO 17 (Rising Edge)...
Success! BPF program attached.
Press the button on GPIO 17 to toggle LED on GPIO 18.
Running indefinitely... (Press Ctrl-C to exit if running in emulator)
"""

PWM_HEADER = """=== PWM Tracing Demo ===
BPF-based PWM event tracing with nanosecond timestamps

Creating ringbuf map...
Ringbuf map created, ID: 0
Loading PWM Observer program...
Observer loaded, ID: 0
Attaching Observer to PWM0 Channel 1...
Observer attached to PWM0:1
Loading Controller program...
Controller loaded, ID: 1
Attaching Controller to Timer...
Controller attached to Timer

Polling for PWM trace events...

"""
PWM_LINE = re.compile(r"^\[(\d+)\] PWM ch=(\d) duty=(\d+)% \((\d+)ns/(\d+)ns\) at t=(\d+)ns$", re.M)


def events(vm) -> list[tuple[int, str]]:
    return [(e.time_ns, e.message) for e in vm.device_events]


def test_safety_demo_console_is_the_real_boards_without_loglevel() -> None:
    vm = boot("rpi5", append="/bin/safety_demo", gpio=["22=1@2s"])
    assert vm.run_to_end() == 0
    # markers, the metrics block, user writes and the first-interrupt markers: nothing else
    expected = MARKERS + METRICS + "89ABCDESYF" + INIT.format("safety_demo") + SAFETY_OUTPUT
    assert vm.console == expected + "M01Et"
    assert vm.raw.count(b"\r\n") == vm.console.count("\n")  # PL011 driver sends CRLF
    # the motor ran, the limit switch stopped it, the motor program's next tick restarted it
    assert events(vm) == [
        (10_001_000, "pwm0.1: duty 50%"),
        (2_000_026_000, "pwm0.1: duty 0%"),
        (2_000_598_000, "pwm0.1: duty 50%"),
    ]
    assert vm.pwm_duty(0, 1) == 50 and vm.gpio_level(22) == 1
    assert vm.guest_s == pytest.approx(2.1)  # powered off 100 ms after the last input


def test_safety_demo_with_kernel_log() -> None:
    vm = boot("rpi5", append="/bin/safety_demo loglevel=info", gpio=["22=1@2s"])
    assert vm.run_to_end() == 0
    assert SAFETY_OUTPUT in vm.user_output
    lines = [(line.level, line.module, line.message) for line in vm.log if line.level]
    assert lines[0] == ("INFO", "kernel", "Logging initialized")
    assert ("INFO", "kernel", "ARM interrupts initialized (timer=30, gpio=261)") in lines
    assert ("INFO", "kernel", "Platform initialized") not in lines  # a virt message
    assert (
        "INFO",
        "kernel::syscall::bpf",
        "sys_bpf: enabled GPIO22 interrupt (rising=true, falling=false)",
    ) in lines
    assert lines[-4:] == [
        ("ERROR", "kernel::bpf::helpers", "EMERGENCY STOP TRIGGERED! Reason: 1"),
        ("INFO", "kernel::bpf::helpers", "[BPF] SAFETY: Motor stop!"),
        ("INFO", "kernel::bpf", "GPIO BPF Hook [id=1] pin=22 edge=1"),
        ("INFO", "kernel", "init exited with status 0; powering off"),
    ]
    # the stop, then -- as on the real board, where the e-stop does not latch -- the
    # motor program's next tick (every 10 ms) writes 50 % again
    assert events(vm) == [
        (10_001_000, "pwm0.1: duty 50%"),
        (2_000_026_000, "pwm0.1: duty 0%"),
        (2_000_598_000, "pwm0.1: duty 50%"),
    ]


def test_safety_demo_is_deterministic_and_the_stop_does_not_latch() -> None:
    runs = []
    for _ in range(2):
        vm = boot("rpi5", append="/bin/safety_demo loglevel=info", gpio=["22=1@1.5s"])
        vm.run_to_end()
        runs.append((vm.raw, events(vm)))
    assert runs[0] == runs[1]
    # the motor program calls pwm_write on every tick, before and after the stop
    kernel = vm.machine.kernel
    assert kernel.bpf.programs[0].runs == pytest.approx(160, abs=1)
    assert [m for _t, m in runs[0][1]] == [
        "pwm0.1: duty 50%",
        "pwm0.1: duty 0%",
        "pwm0.1: duty 50%",
    ]
    assert vm.pwm_duty(0, 1) == 50 and kernel.hooks.gpio_events == 1


def test_safety_demo_without_the_switch_keeps_the_motor_running() -> None:
    vm = boot("rpi5", append="/bin/safety_demo")
    assert vm.run_to_end() == 0  # no scheduled inputs: powers off when init exits
    assert vm.guest_s < 0.01 and events(vm) == []  # before the first tick
    vm = boot("rpi5", append="/bin/safety_demo", gpio=["22=0@1s"])
    vm.run_to_end()
    assert events(vm) == [(10_001_000, "pwm0.1: duty 50%")] and vm.pwm_duty(0, 1) == 50


def test_gpio_demo_button_toggles_the_led() -> None:
    vm = boot("rpi5", append="/bin/gpio_demo", gpio=["17=1@1s", "17=0@1.5s", "17=1@2s"])
    vm.run_for(1.2)
    assert vm.gpio_level(18) == 1
    vm.run_for(1.0)
    assert vm.exit_status == 124  # runs indefinitely, as the original
    assert vm.console.endswith(INIT.format("gpio_demo") + GPIO_OUTPUT + "M01Et")
    assert events(vm) == [
        (1_000_022_000, "gpio: pin 18 -> 1"),
        (2_000_022_000, "gpio: pin 18 -> 0"),
    ]
    assert vm.gpio_level(18) == 0 and vm.machine.kernel.hooks.gpio_events == 2


def test_gpio_demo_driven_from_the_test_api() -> None:
    vm = boot("rpi5", append="/bin/gpio_demo loglevel=info")
    vm.wait_for("Running indefinitely")
    vm.gpio_set(16, 1)  # not the button: no interrupt enabled on it
    vm.run_for(0.05)
    assert vm.gpio_level(18) == 0 and vm.device_events == []
    vm.gpio_set(17, 1)
    vm.run_for(0.05)
    assert vm.gpio_level(18) == 1
    assert vm.device_messages("gpio") == ["gpio: pin 18 -> 1"]
    assert vm.log[-1].message == "GPIO BPF Hook [id=0] pin=17 edge=1"
    vm.gpio_set(17, 0)  # falling edge: the program is attached to rising only
    vm.run_for(0.05)
    assert vm.gpio_level(18) == 1 and vm.machine.kernel.hooks.gpio_events == 1


def test_pwm_demo_observer_sees_the_controller_vary_the_duty() -> None:
    vm = boot("rpi5", append="/bin/pwm_demo loglevel=info")
    vm.run_for(0.305)
    out = vm.program_output("pwm_demo")
    assert PWM_HEADER in vm.user_output
    # the first-interrupt markers "M01Et" precede the first trace line (no newline)
    text = vm.user_output.replace("M01Et", "", 1)
    traced = [tuple(map(int, m.groups())) for m in PWM_LINE.finditer(text)]
    assert len(traced) == 30  # one PWM event per 10 ms tick, drained every 100 ms
    assert [t[0] for t in traced] == list(range(1, 31))
    for _n, channel, pct, duty_ns, period_ns, _t in traced:
        assert channel == 1 and period_ns == 256 and pct == duty_ns * 100 // period_ns
    times = [t[5] for t in traced]
    assert all(10_000_000 < b - a < 10_010_000 for a, b in itertools.pairwise(times))
    duties = [t[2] for t in traced]
    assert len(set(duties)) >= 10  # ktime & 127: the duty really varies
    # the device reports every change of duty the observer saw, at the same times
    reported = [(e.time_ns, e.message) for e in vm.device_events]
    changes = [
        (t[5], f"pwm0.1: duty {t[2]}%")
        for i, t in enumerate(traced)
        if t[2] != (traced[i - 1][2] if i else 0)
    ]
    assert [m for _, m in reported[: len(changes)]] == [m for _, m in changes]
    assert "PWM BPF Hook [id=0] returned: 0" in out
    assert vm.pwm_duty(0, 1) == int(reported[-1][1].split()[-1].rstrip("%"))


def test_pwm_syscalls_on_rpi5() -> None:
    vm = boot("rpi5", append="/bin/t_pwm")
    assert vm.run_to_end() == 0
    assert vm.program_output("t_pwm") == (
        "pwm_config(0, 25000) = 0\n"
        "pwm_write(0, 1, 30) = 0\n"
        "pwm_enable(0, 1, 1) = 0\n"
        "pwm_write(1, 2, 150) = 0\n"
        "pwm_write(0, 3, 10) = -27\n"
        "pwm_config(2, 1000) = -27\n"
        "pwm_enable(0, 1, 0) = 0\n"
        "attach gpio 5 both = 0\n"
        "attach pwm 0:1 = 0\n"
    )
    assert vm.device_messages() == [
        "pwm0.1: period 40000 ns",
        "pwm0.2: period 40000 ns",
        "pwm0.1: duty 30%",
        "pwm0.1: enabled",
        "pwm1.2: duty 100%",  # above 100 is capped, as the original's driver
        "pwm0.1: disabled",
    ]
    assert vm.machine.kernel.hooks.gpio.pending_events(5) == 0


def test_pwm_syscalls_and_gpio_attach_elsewhere(arch: str) -> None:
    vm = boot(arch, append="/bin/t_pwm")
    assert vm.run_to_end() == 0
    nosys = "-51"  # ENOSYS: the original's pc / virt kernels have no PWM syscalls
    assert vm.user_output.endswith(
        "Spawned t_pwm with PID: 2\n"
        + (
            f"pwm_config(0, 25000) = {nosys}\n"
            f"pwm_write(0, 1, 30) = {nosys}\n"
            f"pwm_enable(0, 1, 1) = {nosys}\n"
            f"pwm_write(1, 2, 150) = {nosys}\n"
            f"pwm_write(0, 3, 10) = {nosys}\n"
            f"pwm_config(2, 1000) = {nosys}\n"
            f"pwm_enable(0, 1, 0) = {nosys}\n"
            "attach gpio 5 both = 0\n"
            "attach pwm 0:1 = 0\n"
        )
    )
    with pytest.raises(AssertionError, match="has no gpio"):
        vm.gpio_set(5, 1)


def test_a_pwm_program_that_writes_pwm_cannot_loop_the_kernel() -> None:
    """The original runs PWM hooks inside pwm_write: a PWM program writing PWM would
    recurse forever. Here hook runs are queued and capped, with one WARN."""
    vm = boot("rpi5", append="/bin/t_hello loglevel=info")
    kernel = vm.machine.kernel
    loaded = kernel.bpf.load(
        assemble_bytes("mov r1, 0\nmov r2, 1\nmov r3, 20\ncall pwm_write\nmov r0, 0\nexit"),
        "pwm_echo",
        int(AttachType.PWM),
    )
    kernel.bpf.attach(AttachType.PWM, loaded.id)
    kernel.hooks.pwm[0].set_duty_cycle(1, 10)
    assert loaded.runs == 256  # then the queue is dropped
    assert vm.pwm_duty(0, 1) == 18  # 20 % of the 32-tick reset range: 6 ticks = 18.75 %
    assert vm.log[-1].message == "PWM BPF Hook: 1 events dropped (PWM programs writing PWM)"
    assert vm.run_to_end() == 0


def test_gpio_attach_to_a_missing_pin_warns_and_succeeds() -> None:
    vm = boot("rpi5", append="/bin/t_hello loglevel=info")
    kernel = vm.machine.kernel
    loaded = kernel.bpf.load(assemble_bytes("mov r0, 0\nexit"), "edge", int(AttachType.GPIO))
    kernel.bpf.attach(AttachType.GPIO, loaded.id)
    kernel.hooks.prog_attached(int(AttachType.GPIO), 40, 1)
    assert vm.log[-1].level == "WARN"
    assert vm.log[-1].message == "sys_bpf: invalid GPIO pin 40 (must be 0-27)"


@pytest.mark.parametrize("level", ["off", "warn"])
def test_loglevel_on_pc_and_virt(arch: str, level: str) -> None:
    vm = boot(arch, append=f"/bin/t_errors loglevel={level}")
    vm.run_to_end()
    levels = {line.level for line in vm.log if line.level}
    assert levels == (set() if level == "off" else {"WARN"})  # t_errors makes a WARN
    assert "\nAXIOM KERNEL METRICS\n" in vm.console
    assert "Spawned t_errors with PID: 2\n" in vm.console
    config = vm.machine.kernel.config
    assert config.loglevel == level and config.init_env == []  # not passed on to init


def test_loglevel_info_is_the_default_on_pc_and_virt(arch: str) -> None:
    quiet = boot(arch, append="/bin/t_hello")
    loud = boot(arch, append="/bin/t_hello loglevel=info")
    assert quiet.run_to_end() == loud.run_to_end() == 0
    assert quiet.raw == loud.raw
