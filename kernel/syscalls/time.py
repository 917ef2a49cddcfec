"""Time syscalls: clock_gettime (one monotonic clock) and a blocking nanosleep."""

from __future__ import annotations

from kernel.abi import TIMESPEC_STRUCT, Errno, SyscallError
from kernel.proc import Process
from kernel.syscalls.view import KernelView

NS = 1_000_000_000


def sys_clock_gettime(k: KernelView, proc: Process, _clock_id: int, ts_ptr: int, *_: int) -> int:
    now = k.clock_ns()
    proc.mm.write(ts_ptr, TIMESPEC_STRUCT.pack(now // NS, now % NS))
    return 0


def sys_nanosleep(k: KernelView, proc: Process, req_ptr: int, _rem: int, *_: int) -> int:
    if proc.wake_at is not None:  # restarted after the wake-up
        if k.clock_ns() >= proc.wake_at:
            proc.wake_at = None
            return 0
        k.procs.sleep_until(proc, proc.wake_at)
    sec, nsec = TIMESPEC_STRUCT.unpack(proc.mm.read(req_ptr, TIMESPEC_STRUCT.size))
    if sec < 0 or not 0 <= nsec < NS:
        raise SyscallError(Errno.EINVAL, "bad timespec")
    duration = sec * NS + nsec
    if duration == 0:
        return 0
    proc.wake_at = k.clock_ns() + duration
    k.procs.sleep_until(proc, proc.wake_at)
    return 0  # not reached: sleep_until raises WouldBlock
