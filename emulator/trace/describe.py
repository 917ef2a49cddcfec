"""Names and argument lists shared by the trace file and the text log."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING

from kernel.abi import Errno, Helper, Sys
from kernel.syscalls.table import SYSCALLS

if TYPE_CHECKING:
    from kernel.proc import Process

ERRNO_MAX = 4095


@functools.cache
def syscall_name(nr: int) -> str:
    try:
        return Sys(nr).name.lower()
    except ValueError:
        return f"syscall_{nr}"


@functools.cache
def arg_names(nr: int) -> tuple[str, ...]:
    """The argument names of a syscall's handler (after kernel and process)."""
    handler = SYSCALLS.get(nr)
    if handler is None:
        return ("a1", "a2", "a3", "a4", "a5", "a6")
    names = []
    for param in list(inspect.signature(handler).parameters.values())[2:]:
        if param.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            break
        names.append(param.name.lstrip("_"))
    return tuple(names)


def named_args(nr: int, args: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(arg_names(nr), args, strict=False))


def shown_args(nr: int, args: tuple[int, ...]) -> dict[str, int | str]:
    """For the trace file: values below 4096 as numbers, addresses as hex strings."""
    return {k: v if v < 4096 else hex(v) for k, v in named_args(nr, args).items()}


def errno_name(result: int) -> str | None:
    """`-14` -> "EFAULT"; None when `result` is not an error return."""
    if -ERRNO_MAX <= result < 0:
        try:
            return Errno(-result).name
        except ValueError:
            return f"E{-result}"
    return None


@functools.cache
def helper_name(helper_id: int) -> str:
    try:
        return Helper(helper_id).name.lower()
    except ValueError:
        return f"helper_{helper_id}"


def proc_label(proc: Process) -> str:
    return f"pid {proc.pid} ({proc.name})"


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def format_call(nr: int, args: tuple[int, ...]) -> str:
    """`write(fd=1, buf=0x4010a0, count=12)`: small values decimal, others hex."""
    text = ", ".join(
        f"{name}={value if value < 4096 else hex(value)}"
        for name, value in named_args(nr, args).items()
    )
    return f"{syscall_name(nr)}({text})"


def format_result(result: int) -> str:
    name = errno_name(result)
    if name is not None:
        return f"-1 {name} ({result})"
    return str(result) if result < 4096 else hex(result)
