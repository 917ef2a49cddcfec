"""Syscall handlers by area; importing this package fills the dispatch table."""

from kernel.syscalls import bpf, files, memory, misc, process, time  # noqa: F401
from kernel.syscalls.table import HANDLERS, SyscallHandler

__all__ = ["HANDLERS", "SyscallHandler"]
