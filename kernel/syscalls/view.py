"""What a syscall handler may use of the kernel, and the handler's type.

A handler gets `(kernel, process, a1..a6)` and returns the result for the guest, or
None when there is nothing to write back (the process exited, exec'd or blocked).
Failures are raised as `SyscallError` and become `-errno`; a call that must wait
raises `WouldBlock` (or returns it: the same, without unwinding, for hot paths).
The kernel is seen through `KernelView` only, so what the handlers depend on is
listed in one place and nothing else of the kernel is theirs to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from kernel.bpf_attach.hooks import BpfHooks
    from kernel.bpf_attach.registry import BpfSubsystem
    from kernel.fs.vfs import Vfs
    from kernel.klog import KernelLog
    from kernel.proc import Process, ProcessTable


class GuestClock(Protocol):
    """The part of the machine's clock handlers use: charging kernel work."""

    def add_ns(self, ns: int) -> None: ...


class KernelView(Protocol):
    """The kernel as syscall handlers see it."""

    @property
    def log(self) -> KernelLog: ...

    @property
    def vfs(self) -> Vfs: ...

    @property
    def procs(self) -> ProcessTable:
        """Process lifecycle: spawn, fork, execve, exit, wait, sleep_until."""
        ...

    @property
    def bpf(self) -> BpfSubsystem: ...

    @property
    def hooks(self) -> BpfHooks:
        """Attach-time device setup (GPIO edges) and the PWM drivers."""
        ...

    @property
    def clock(self) -> GuestClock: ...

    @property
    def exported_ringbuf(self) -> int | None: ...

    def export_ringbuf(self, map_id: int) -> None:
        """SYS_DEBUG: remember the ring buffer map a loader exported."""

    def clock_ns(self) -> int:
        """Monotonic nanoseconds from the platform's clocksource."""
        ...

    def charge_heap(self, nbytes: int) -> None:
        """Kernel heap grown (or shrunk, negative) by a handler's allocation."""

    def next_pipe_ino(self) -> int:
        """A new pipe's inode number (and its buffer charged to the heap)."""
        ...


Handler: TypeAlias = "Callable[[KernelView, Process, int, int, int, int, int, int], int | None]"
