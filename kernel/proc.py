"""Processes: identity, CPU context, address space, descriptors, and exit state."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from kernel.abi import Errno, SyscallError
from kernel.fs.file import OpenFile
from kernel.waitq import WaitQueue

if TYPE_CHECKING:
    from emulator.cpu.base import GuestCpu
    from kernel.mm import AddressSpace

MAX_FDS = 256


class State(enum.Enum):
    RUNNABLE = "runnable"
    BLOCKED = "blocked"
    ZOMBIE = "zombie"


class FdTable:
    """Descriptor numbers -> shared open file descriptions."""

    def __init__(self) -> None:
        self.files: dict[int, OpenFile] = {}
        self.cloexec: set[int] = set()

    def get(self, fd: int) -> OpenFile:
        try:
            return self.files[fd]
        except KeyError:
            raise SyscallError(Errno.EBADF, f"fd {fd}") from None

    def install(self, file: OpenFile, lowest: int = 0) -> int:
        for fd in range(lowest, MAX_FDS):
            if fd not in self.files:
                self.files[fd] = file
                return fd
        raise SyscallError(Errno.EMFILE)

    def dup2(self, old: int, new: int) -> int:
        file = self.get(old)
        if not 0 <= new < MAX_FDS:
            raise SyscallError(Errno.EBADF, f"fd {new}")
        if old == new:
            return new
        if new in self.files:
            self.close(new)
        file.refs += 1
        self.cloexec.discard(new)
        self.files[new] = file
        return new

    def close(self, fd: int) -> None:
        file = self.files.pop(fd, None)
        if file is None:
            raise SyscallError(Errno.EBADF, f"fd {fd}")
        self.cloexec.discard(fd)
        file.refs -= 1
        if file.refs == 0:
            file.release()

    def close_all(self) -> None:
        for fd in sorted(self.files):
            self.close(fd)

    def clone(self) -> FdTable:
        other = FdTable()
        for fd, file in self.files.items():
            file.refs += 1
            other.files[fd] = file
        other.cloexec = set(self.cloexec)
        return other

    def close_on_exec(self) -> None:
        for fd in sorted(self.cloexec):
            self.close(fd)


class Process:
    """One guest process."""

    def __init__(
        self,
        pid: int,
        parent: Process | None,
        name: str,
        cpu: GuestCpu,
        mm: AddressSpace,
        fds: FdTable,
        cwd: str,
    ) -> None:
        self.pid = pid
        self.parent = parent
        self.name = name
        self.exe_path = ""  # absolute path of the running executable (debugger exec events)
        self.cpu = cpu
        self.mm = mm
        self.fds = fds
        self.cwd = cwd
        self.state = State.RUNNABLE
        self.exit_code: int | None = None
        self.children: list[Process] = []
        self.child_exited = WaitQueue()
        self.wake_at: int | None = None  # nanosleep restart state
        self.restart_syscall = False  # blocked: re-execute the trap when woken
        self.resuming_syscall = False  # the next trap is that re-execution, not a new call
        # Woken from a blocking call with the PC still after its trap instruction: the
        # machine either re-issues the call in the kernel or rewinds the PC to re-trap.
        self.restart_deferred = False
        self.retired_cpus: list[GuestCpu] = []  # contexts replaced by execve, freed later
        self.heap_blocks: dict[int, int] = {}  # malloc address -> size
        self.syscalls = 0  # traps taken (a restarted blocking call counts again)
        self.cpu_ns = 0  # guest time spent running this process's slices

    @property
    def wait_status(self) -> int:
        return ((self.exit_code or 0) & 0xFF) << 8

    def __repr__(self) -> str:
        return f"<Process {self.pid} {self.name} {self.state.value}>"
