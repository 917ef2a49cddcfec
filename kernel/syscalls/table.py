"""The syscall table: number -> handler, one explicit mapping (xv6's `syscalls[]`).

A number missing here is an unimplemented syscall: the trap prints the WARN line and
returns -ENOSYS. Handler signatures and the view of the kernel they get are in
`kernel.syscalls.view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kernel.abi import Sys
from kernel.syscalls import bpf, files, memory, misc, process, time
from kernel.syscalls.view import Handler

SYSCALLS: Mapping[int, Handler] = MappingProxyType(
    {
        Sys.EXIT: process.sys_exit,
        Sys.OPEN: files.sys_open,
        Sys.FSTAT: files.sys_fstat,
        Sys.MALLOC: memory.sys_malloc,
        Sys.FREE: memory.sys_free,
        Sys.ABORT: process.sys_abort,
        Sys.GETCWD: files.sys_getcwd,
        Sys.READ: files.sys_read,
        Sys.WRITE: files.sys_write,
        Sys.WRITEV: files.sys_writev,
        Sys.LSEEK: files.sys_lseek,
        Sys.CLOSE: files.sys_close,
        Sys.MMAP: memory.sys_mmap,
        Sys.DUP: files.sys_dup,
        Sys.DUP2: files.sys_dup2,
        Sys.PIPE: files.sys_pipe,
        Sys.CHDIR: files.sys_chdir,
        Sys.MKDIR: files.sys_mkdir,
        Sys.RMDIR: files.sys_rmdir,
        Sys.BPF: bpf.sys_bpf,
        Sys.PWM_CONFIG: misc.sys_pwm_config,  # -ENOSYS and the WARN line without PWM
        Sys.PWM_WRITE: misc.sys_pwm_write,
        Sys.PWM_ENABLE: misc.sys_pwm_enable,
        Sys.CLOCK_GETTIME: time.sys_clock_gettime,
        Sys.NANOSLEEP: time.sys_nanosleep,
        Sys.SPAWN: process.sys_spawn,
        Sys.FORK: process.sys_fork,
        Sys.EXECVE: process.sys_execve,
        Sys.WAITPID: process.sys_waitpid,
        Sys.DEBUG: misc.sys_debug,
    }
)
