"""The debug syscall and the Raspberry Pi 5 PWM syscalls (no PWM on pc / virt)."""

from __future__ import annotations

from kernel.abi import DebugOp, Errno, Sys, SyscallError
from kernel.proc import Process
from kernel.syscalls.table import Kernel, syscall

MAX_MAP_ID = 0xFFFF_FFFF  # ids are u32 (BpfAttr.map_fd): op 2 can never look like -errno


@syscall(Sys.DEBUG)
def sys_debug(k: Kernel, proc: Process, op: int, value: int, *_: int) -> int:
    if op == DebugOp.SET_EXPORTED_RINGBUF:
        if value > MAX_MAP_ID:
            raise SyscallError(Errno.EINVAL, f"map id {value} is not a u32")
        k.exported_ringbuf = value
        return 0
    if op == DebugOp.GET_EXPORTED_RINGBUF:
        if k.exported_ringbuf is None:
            raise SyscallError(Errno.EINVAL, "no exported ringbuf map id")
        return k.exported_ringbuf
    raise SyscallError(Errno.EINVAL, f"unknown debug op {op}")


def _no_pwm(k: Kernel, proc: Process, *_: int) -> int:
    raise SyscallError(Errno.ENODEV, "this board has no PWM controller")


for _nr in (Sys.PWM_CONFIG, Sys.PWM_WRITE, Sys.PWM_ENABLE):
    syscall(_nr)(_no_pwm)
