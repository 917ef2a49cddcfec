"""Process syscalls: exit, abort, spawn, fork, execve, waitpid (argument decoding;
the lifecycle itself is `kernel.proc.ProcessTable`)."""

from __future__ import annotations

from kernel.abi import Errno, SyscallError
from kernel.proc import Process
from kernel.syscalls.files import user_path
from kernel.syscalls.view import KernelView

ABORT_STATUS = 134
MAX_ARGS = 1024


def sys_exit(k: KernelView, proc: Process, status: int, *_: int) -> None:
    k.procs.exit(proc, status & 0xFF)


def sys_abort(k: KernelView, proc: Process, *_: int) -> None:
    k.procs.exit(proc, ABORT_STATUS)


def sys_spawn(k: KernelView, proc: Process, path_ptr: int, path_len: int, *_: int) -> int:
    path = user_path(proc, path_ptr, path_len)
    child = k.procs.spawn(path, [path.encode()], [], parent=proc)
    return child.pid


def sys_fork(k: KernelView, proc: Process, *_: int) -> int:
    return k.procs.fork(proc).pid


def _string_vector(proc: Process, ptr: int) -> list[bytes]:
    """A NULL-terminated array of C strings (argv / envp); NULL pointer = empty."""
    out: list[bytes] = []
    if ptr == 0:
        return out
    while True:
        entry = proc.mm.read_u64(ptr + 8 * len(out))
        if entry == 0:
            return out
        if len(out) >= MAX_ARGS:
            raise SyscallError(Errno.E2BIG)
        out.append(proc.mm.read_cstring(entry))


def sys_execve(
    k: KernelView, proc: Process, path_ptr: int, argv_ptr: int, envp_ptr: int, *_: int
) -> None:
    path = proc.mm.read_cstring(path_ptr).decode(errors="replace")
    if not path:
        raise SyscallError(Errno.ENOENT, "empty path")
    k.procs.execve(proc, path, _string_vector(proc, argv_ptr), _string_vector(proc, envp_ptr))


def sys_waitpid(
    k: KernelView, proc: Process, pid: int, status_ptr: int, options: int, *_: int
) -> int:
    pid = pid - (1 << 64) if pid >= 1 << 63 else pid

    def report(child: Process) -> None:
        if status_ptr:
            proc.mm.write(status_ptr, child.wait_status.to_bytes(4, "little"))

    return k.procs.wait(proc, pid, options, report)
