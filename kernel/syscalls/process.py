"""Process syscalls: exit, abort, spawn, fork, execve, waitpid."""

from __future__ import annotations

from kernel.abi import WNOHANG, Errno, Sys, SyscallError
from kernel.proc import Process, State
from kernel.syscalls.files import user_path
from kernel.syscalls.table import Kernel, syscall
from kernel.waitq import WouldBlock

ABORT_STATUS = 134
MAX_ARGS = 1024


@syscall(Sys.EXIT)
def sys_exit(k: Kernel, proc: Process, status: int, *_: int) -> None:
    k.terminate(proc, status & 0xFF)


@syscall(Sys.ABORT)
def sys_abort(k: Kernel, proc: Process, *_: int) -> None:
    k.terminate(proc, ABORT_STATUS)


@syscall(Sys.SPAWN)
def sys_spawn(k: Kernel, proc: Process, path_ptr: int, path_len: int, *_: int) -> int:
    path = user_path(proc, path_ptr, path_len)
    child = k.spawn(path, [path.encode()], [], parent=proc)
    return child.pid


@syscall(Sys.FORK)
def sys_fork(k: Kernel, proc: Process, *_: int) -> int:
    return k.fork(proc).pid


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


@syscall(Sys.EXECVE)
def sys_execve(
    k: Kernel, proc: Process, path_ptr: int, argv_ptr: int, envp_ptr: int, *_: int
) -> None:
    path = proc.mm.read_cstring(path_ptr).decode(errors="replace")
    if not path:
        raise SyscallError(Errno.ENOENT, "empty path")
    k.execve(proc, path, _string_vector(proc, argv_ptr), _string_vector(proc, envp_ptr))


@syscall(Sys.WAITPID)
def sys_waitpid(k: Kernel, proc: Process, pid: int, status_ptr: int, options: int, *_: int) -> int:
    pid = pid - (1 << 64) if pid >= 1 << 63 else pid
    if pid == 0 or pid < -1:
        raise SyscallError(Errno.EINVAL, "process groups are not supported")
    candidates = [c for c in proc.children if pid == -1 or c.pid == pid]
    if not candidates:
        raise SyscallError(Errno.ECHILD)
    for child in candidates:
        if child.state is State.ZOMBIE:
            if status_ptr:
                proc.mm.write(status_ptr, child.wait_status.to_bytes(4, "little"))
            k.reap(child)
            return child.pid
    if options & WNOHANG:
        return 0
    raise WouldBlock(proc.child_exited)
