"""The dispatch table: syscall number -> handler, filled by `@syscall(Sys.X)`.

A handler gets `(kernel, process, a1..a6)` and returns the result for the guest, or
None when there is nothing to write back (the process exited, exec'd or blocked).
Failures are raised as `SyscallError` and become `-errno`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.abi import Sys

SyscallHandler = Callable[..., int | None]
HANDLERS: dict[int, SyscallHandler] = {}


def syscall(number: Sys) -> Callable[[SyscallHandler], SyscallHandler]:
    def register(func: SyscallHandler) -> SyscallHandler:
        if number in HANDLERS:
            raise RuntimeError(f"syscall {number.name} registered twice")
        HANDLERS[int(number)] = func
        return func

    return register


Kernel = Any  # kernel.kernel.Kernel; kept loose to avoid an import cycle
