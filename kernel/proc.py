"""Processes: identity, CPU context, address space, descriptors and exit state, and
the process table with the lifecycle (spawn, fork, execve, exit, wait, reap)."""

from __future__ import annotations

import enum
import itertools
import posixpath
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from kernel.abi import (
    USER_ALLOC_BASE,
    USER_EXEC_ALLOC_BASE,
    WNOHANG,
    Arch,
    Errno,
    SyscallError,
)
from kernel.elfload import build_process, parse_executable
from kernel.fs.file import OpenFile
from kernel.mm import AddressSpace
from kernel.waitq import WaitQueue, WouldBlock

if TYPE_CHECKING:
    from emulator.cpu.base import GuestCpu
    from kernel.config import KernelConfig
    from kernel.fs.vfs import Vfs
    from kernel.klog import KernelLog
    from kernel.mm import MemoryAccount
    from kernel.sched import Scheduler

MAX_FDS = 256
PROCESS_KERNEL_BYTES = 16 * 1024  # PCB + kernel stack, for the heap figure
INPUT_GRACE_NS = 100_000_000  # stay on this long after the last scheduled input
MAX_REAPED_RECORDS = 4096  # exited processes remembered for the end-of-run statistics
MAX_EXEC_BYTES = 64 << 20  # largest executable file spawn/execve will read


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
        self.syscalls = 0  # syscalls made (a blocked call re-issued is not a new one)
        self.cpu_ns = 0  # guest time spent running this process's slices
        # What a wait queue calls to wake this process, made once at its first block
        # (`Trap._block`) rather than at every one.
        self.waker: Callable[[], None] | None = None

    @property
    def wait_status(self) -> int:
        return ((self.exit_code or 0) & 0xFF) << 8

    def __repr__(self) -> str:
        return f"<Process {self.pid} {self.name} {self.state.value}>"


class ProcessTable(Mapping[int, Process]):
    """pid -> live process (zombies included until reaped), and the lifecycle that
    changes it: spawn, fork, execve, exit, wait, reap, and init's exit powering the
    machine off. As xv6's proc.c; the scheduler only orders what is runnable."""

    def __init__(
        self,
        arch: Arch,
        config: KernelConfig,
        account: MemoryAccount,
        sched: Scheduler,
        clock: Any,
        log: KernelLog,
        new_cpu: Callable[[], GuestCpu],
        charge_heap: Callable[[int], None],
        inputs_until_ns: Callable[[], int | None],
        power_off: Callable[[], None],
    ) -> None:
        self._arch = arch
        self._max = config.max_processes
        self._account = account
        self._sched = sched
        self._clock = clock
        self._log = log
        self._new_cpu = new_cpu
        self._charge_heap = charge_heap
        self._inputs_until_ns = inputs_until_ns
        self._power_off = power_off
        self._procs: dict[int, Process] = {}
        self._pids = itertools.count(1)
        self.vfs: Vfs | None = None  # the root, once mounted (executables, /dev)
        self.init: Process | None = None
        self.exit_status: int | None = None  # init's, once it exited
        self.reaped: list[tuple[int, str, int | None, int, int]] = []  # for --stats

    # Mapping: the emulator's monitor, gdb stub and statistics read processes by pid.

    def __getitem__(self, pid: int) -> Process:
        return self._procs[pid]

    def __iter__(self) -> Iterator[int]:
        return iter(self._procs)

    def __len__(self) -> int:
        return len(self._procs)

    # ------------------------------------------------------------------ creation

    def start_init(self, path: str, argv: list[bytes], envp: list[bytes]) -> Process:
        self.init = self.spawn(path, argv, envp, parent=None)
        return self.init

    def spawn(
        self, path: str, argv: list[bytes], envp: list[bytes], parent: Process | None
    ) -> Process:
        self._check_limit()
        image, name = self._load(path, parent.cwd if parent else "/")
        cpu, mm = self._new_context(image, argv, envp, spawned=True)
        fds = FdTable()
        assert self.vfs is not None
        fds.install(self.vfs.resolve("/dev/null").open(True, True, False, False))
        serial = self.vfs.resolve("/dev/serial").open(True, True, False, False)
        fds.install(serial)
        fds.dup2(1, 2)
        cwd = parent.cwd if parent else "/"
        proc = self._register(name, cpu, mm, fds, parent, cwd)
        proc.exe_path = posixpath.normpath(posixpath.join(cwd, path))
        return proc

    def fork(self, parent: Process) -> Process:
        self._check_limit()
        cpu = self._new_cpu()
        mm = parent.mm.clone_into(cpu)
        cpu.restore_context(parent.cpu.save_context())
        cpu.set_return(0)
        child = self._register(parent.name, cpu, mm, parent.fds.clone(), parent, parent.cwd)
        child.heap_blocks = dict(parent.heap_blocks)
        child.exe_path = parent.exe_path
        return child

    def execve(self, proc: Process, path: str, argv: list[bytes], envp: list[bytes]) -> None:
        image, name = self._load(path, proc.cwd)
        cpu, mm = self._new_context(image, argv, envp, spawned=False)
        old_cpu = proc.cpu
        proc.mm.release_all()
        proc.retired_cpus.append(old_cpu)
        old_cpu.request_stop()
        cpu.owner = proc
        proc.cpu, proc.mm, proc.name = cpu, mm, name
        proc.exe_path = posixpath.normpath(posixpath.join(proc.cwd, path))
        proc.heap_blocks = {}
        proc.fds.close_on_exec()

    def _check_limit(self) -> None:
        if len(self._procs) >= self._max:
            raise SyscallError(Errno.EAGAIN, "process limit reached")

    def _load(self, path: str, cwd: str) -> tuple[Any, str]:
        assert self.vfs is not None
        node = self.vfs.resolve(path, cwd)
        if node.is_dir:
            raise SyscallError(Errno.EACCES, f"{path} is a directory")
        size = node.stat().size
        if size > MAX_EXEC_BYTES:  # checked before reading: i_size may be corrupt
            raise SyscallError(Errno.ENOEXEC, f"{path}: {size} bytes > {MAX_EXEC_BYTES}")
        file = node.open(True, False, False, False)
        try:
            data = file.read(size)
        finally:
            file.release()
        if not data:
            raise SyscallError(Errno.ENOEXEC, f"{path} is empty or not a regular file")
        name = posixpath.basename(path)
        return parse_executable(data, self._arch.value, name), name

    def _new_context(
        self, image: Any, argv: list[bytes], envp: list[bytes], *, spawned: bool
    ) -> tuple[GuestCpu, AddressSpace]:
        """A CPU context and address space laid out as the original's loader does:
        spawn keeps a copy of the ELF file in user memory, execve does not and
        starts a new allocator (elfload module doc, USER_EXEC_ALLOC_BASE)."""
        cpu = self._new_cpu()
        base = (USER_ALLOC_BASE if spawned else USER_EXEC_ALLOC_BASE)[self._arch]
        mm = AddressSpace(cpu, self._account, base)
        try:
            start = build_process(image, mm, argv, envp, keep_file=spawned)
        except SyscallError:
            mm.release_all()
            raise
        cpu.pc = image.entry
        cpu.sp = start.sp
        if start.thread_pointer:
            cpu.set_thread_pointer(start.thread_pointer)
        return cpu, mm

    def _register(
        self,
        name: str,
        cpu: GuestCpu,
        mm: AddressSpace,
        fds: FdTable,
        parent: Process | None,
        cwd: str,
    ) -> Process:
        proc = Process(next(self._pids), parent, name, cpu, mm, fds, cwd)
        cpu.owner = proc
        self._procs[proc.pid] = proc
        if parent is not None:
            parent.children.append(proc)
        self._charge_heap(PROCESS_KERNEL_BYTES)
        self._sched.add(proc)
        return proc

    # ------------------------------------------------------------------ sleeping

    def sleep_until(self, proc: Process, deadline_ns: int) -> NoReturn:
        """Block `proc` until guest time `deadline_ns` (raises WouldBlock)."""
        queue = WaitQueue()
        timer = self._clock.timer(lambda _deadline: queue.wake_all())
        timer.arm(deadline_ns)
        raise WouldBlock(queue)

    # ------------------------------------------------------------------ ending

    def exit(self, proc: Process, code: int) -> None:
        """The calling process ends (exit, abort): its slice stops at this trap."""
        self.terminate(proc, code, stop=True)

    def terminate(self, proc: Process, code: int, *, stop: bool = False) -> None:
        """Exit (or kill) a process: release it, wake its parent, maybe power off.
        `stop`: the process is inside a trap, so end the running slice."""
        if proc.state is State.ZOMBIE:
            return
        proc.exit_code = code
        proc.fds.close_all()
        proc.mm.release_all()
        self._sched.remove(proc)
        proc.state = State.ZOMBIE
        proc.retired_cpus.append(proc.cpu)
        if stop:
            proc.cpu.request_stop()
        init = self.init
        for child in proc.children:
            child.parent = init if init is not proc else None
            if init is not None and child.parent is not None:
                init.children.append(child)
        proc.children = []
        if proc is init:
            self._init_exited(code)
            return
        if proc.parent is not None:
            proc.parent.child_exited.wake_all()
        else:
            self.reap(proc)

    def wait(
        self, parent: Process, pid: int, options: int, report: Callable[[Process], None]
    ) -> int:
        """waitpid: reap a zombie child (`pid` -1: any) and return its pid; 0 if none
        has exited and WNOHANG; otherwise block. `report(child)` copies the status out
        before the reaping, so a bad pointer leaves the zombie in place."""
        if pid == 0 or pid < -1:
            raise SyscallError(Errno.EINVAL, "process groups are not supported")
        candidates = [c for c in parent.children if pid == -1 or c.pid == pid]
        if not candidates:
            raise SyscallError(Errno.ECHILD)
        for child in candidates:
            if child.state is State.ZOMBIE:
                report(child)
                self.reap(child)
                return child.pid
        if options & WNOHANG:
            return 0
        raise WouldBlock(parent.child_exited)

    def reap(self, proc: Process) -> None:
        self._procs.pop(proc.pid, None)
        if len(self.reaped) < MAX_REAPED_RECORDS:
            self.reaped.append((proc.pid, proc.name, proc.exit_code, proc.syscalls, proc.cpu_ns))
        if proc.parent is not None and proc in proc.parent.children:
            proc.parent.children.remove(proc)
        self._charge_heap(-PROCESS_KERNEL_BYTES)
        free_contexts(proc)

    def _init_exited(self, code: int) -> None:
        """Power off (deviation 11) -- after any inputs scheduled from outside (GPIO
        events), so that programs left attached by init's children still see them."""
        self.exit_status = code
        until = self._inputs_until_ns()
        if until is None or until < self._clock.now_ns():
            self._announce_power_off(code)
            return
        timer = self._clock.timer(lambda _deadline: self._announce_power_off(code))
        timer.arm(until + INPUT_GRACE_NS)

    def _announce_power_off(self, code: int) -> None:
        self._log.info("kernel", f"init exited with status {code}; powering off")
        self._power_off()


def free_contexts(proc: Process) -> None:
    """Close the CPU contexts a process no longer runs on (execve, exit)."""
    for cpu in proc.retired_cpus:
        cpu.close()
    proc.retired_cpus.clear()
