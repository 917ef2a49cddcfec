"""The debug syscall and the Raspberry Pi 5 PWM syscalls (ENOSYS on pc / virt, where the
original kernel is built without them)."""

from __future__ import annotations

from typing import Any

from kernel.abi import DebugOp, Errno, Sys, SyscallError
from kernel.drivers.rp1 import PWM_CLOCK_HZ
from kernel.proc import Process
from kernel.syscalls.view import KernelView

MAX_MAP_ID = 0xFFFF_FFFF  # ids are u32 (BpfAttr.map_fd): op 2 can never look like -errno


def sys_debug(k: KernelView, proc: Process, op: int, value: int, *_: int) -> int:
    if op == DebugOp.SET_EXPORTED_RINGBUF:
        if value > MAX_MAP_ID:
            raise SyscallError(Errno.EINVAL, f"map id {value} is not a u32")
        k.export_ringbuf(value)
        return 0
    if op == DebugOp.GET_EXPORTED_RINGBUF:
        if k.exported_ringbuf is None:
            raise SyscallError(Errno.EINVAL, "no exported ringbuf map id")
        return k.exported_ringbuf
    raise SyscallError(Errno.EINVAL, f"unknown debug op {op}")


def _pwm(k: KernelView, proc: Process, nr: Sys, pwm_id: int, channel: int | None = None) -> Any:
    """The PWM driver for `pwm_id` (EINVAL for bad ids). Without PWM hardware the
    syscall does not exist, as in the original's pc / virt builds: -ENOSYS and the WARN
    line of any unimplemented syscall (deviation 1)."""
    drivers = k.hooks.pwm
    if not drivers:
        k.log.warn(
            "kernel::syscall",
            f"unknown syscall {int(nr)} from pid {proc.pid} ({proc.name}): returning -ENOSYS"
            " (PWM syscalls exist on the Raspberry Pi 5 only)",
        )
        raise SyscallError(Errno.ENOSYS, "no PWM controller on this board")
    if not 0 <= pwm_id < len(drivers):
        raise SyscallError(Errno.EINVAL, f"pwm_id {pwm_id} is not 0..{len(drivers) - 1}")
    if channel is not None and channel not in (1, 2):
        raise SyscallError(Errno.EINVAL, f"PWM channel {channel} is not 1 or 2")
    return drivers[pwm_id]


def sys_pwm_config(k: KernelView, proc: Process, pwm_id: int, freq_hz: int, *_: int) -> int:
    """Both channels of the controller get the frequency (the original's behaviour)."""
    pwm = _pwm(k, proc, Sys.PWM_CONFIG, pwm_id)
    freq = freq_hz & 0xFFFF_FFFF
    if freq > PWM_CLOCK_HZ:
        raise SyscallError(Errno.EINVAL, f"{freq} Hz is above the {PWM_CLOCK_HZ} Hz PWM clock")
    pwm.set_frequency(1, freq)
    pwm.set_frequency(2, freq)
    return 0


def sys_pwm_write(
    k: KernelView, proc: Process, pwm_id: int, channel: int, duty: int, *_: int
) -> int:
    """Duty in percent; values above 100 are capped, as the original's driver does."""
    _pwm(k, proc, Sys.PWM_WRITE, pwm_id, channel).set_duty_cycle(channel, min(duty, 100))
    return 0


def sys_pwm_enable(
    k: KernelView, proc: Process, pwm_id: int, channel: int, on: int, *_: int
) -> int:
    pwm = _pwm(k, proc, Sys.PWM_ENABLE, pwm_id, channel)
    if on:
        pwm.enable(channel)
    else:
        pwm.disable(channel)
    return 0
