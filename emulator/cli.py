"""`run-virt`: boot an axiomOS image and show the serial console (QEMU-like flags).

Exit status: init's own exit status when it exits (the machine powers off); 124 when
the guest-time timeout expires; 125 on a kernel panic; 126 for bad input (missing or
corrupt image, a missing init, an init ELF for the wrong architecture, a kernel command
line that does not parse); 2 for a bad option or option value. Whenever the status is
not 0, one line on stderr says why the run ended, so a guest exiting with 124 is never
mistaken for a timeout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from emulator import qemu_compat
from emulator.chardev import CharBackend, FileBackend, MuxBackend, NullBackend, StdioBackend
from emulator.config import (
    ARCHES,
    EXIT_BAD_INPUT,
    EXIT_PANIC,
    ConfigError,
    MachineConfig,
    memory_bytes,
    timeout_seconds,
)
from emulator.machine import BadInput
from emulator.session import exit_code_for, start, timeout_ns


def _serial_backends(specs: tuple[str, ...]) -> CharBackend:
    backends: list[CharBackend] = []
    for spec in specs or ("stdio",):
        if spec == "stdio":
            backends.append(StdioBackend())
        elif spec == "none":
            backends.append(NullBackend())
        elif spec.startswith("file:") and len(spec) > 5:
            path = Path(spec[5:])
            try:
                backends.append(FileBackend(path))
            except OSError as err:
                raise BadInput(f"cannot open serial log {path}: {err.strerror}") from None
        else:
            raise BadInput(f"bad --serial {spec!r}: use stdio, none or file:PATH")
    return backends[0] if len(backends) == 1 else MuxBackend(backends)


def _memory(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    try:
        return memory_bytes(value)
    except ConfigError as err:
        raise click.BadParameter(str(err)) from None


def _timeout(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    try:
        return timeout_seconds(value)
    except ConfigError as err:
        raise click.BadParameter(str(err)) from None


class OneLineUsageError(click.UsageError):
    """A refused QEMU spelling: the message is already the complete answer."""

    def show(self, file: object = None) -> None:  # noqa: ARG002 - click's signature
        click.echo(self.message, err=True)


class RunVirtCommand(click.Command):
    """Translates or answers QEMU's spellings (emulator.qemu_compat) before parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        value_options = [
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag
            for name in param.opts + param.secondary_opts
        ]
        try:
            args = qemu_compat.preparse(args, value_options, lambda m: click.echo(m, err=True))
        except qemu_compat.QemuSpellingError as err:
            raise OneLineUsageError(str(err), ctx) from None
        return super().parse_args(ctx, args)


@click.command(cls=RunVirtCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--arch",
    type=click.Choice(ARCHES),
    default="aarch64",
    show_default=True,
    help="Guest architecture (board pc for x86_64, virt for aarch64).",
)
@click.option(
    "--image",
    type=click.Path(path_type=Path),
    default=None,
    help="ext2 disk image [default: build/<arch>/disk.img].",
)
@click.option(
    "--append",
    "cmdline",
    default="",
    metavar="CMDLINE",
    help="Kernel command line, e.g. 'init=/bin/t_hello' or '/bin/fork_test'.",
)
@click.option(
    "--serial",
    multiple=True,
    metavar="stdio|file:PATH|none",
    help="Serial console backend; repeat to send to several.",
)
@click.option(
    "--timeout",
    default=None,
    callback=_timeout,
    metavar="SECONDS",
    help="Stop after this much guest time (exit status 124).",
)
@click.option(
    "-m",
    "memory",
    default="128M",
    callback=_memory,
    show_default=True,
    help="Guest memory budget (ENOMEM beyond it); at most the host's RAM.",
)
@click.option(
    "--clock",
    type=click.Choice(["icount", "host"]),
    default="icount",
    show_default=True,
    help="icount: deterministic guest time; host: wall clock.",
)
@click.option(
    "--icount-shift",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Guest time per instruction is 2**N ns (icount clock).",
)
@click.option("--trace-syscalls", is_flag=True, help="Log every syscall at INFO.")
def main(
    arch: str,
    image: Path | None,
    cmdline: str,
    serial: tuple[str, ...],
    timeout: float | None,
    memory: int,
    clock: str,
    icount_shift: int,
    trace_syscalls: bool,
) -> None:
    """Boot the modelled axiomOS kernel and show its serial console."""
    config = MachineConfig(
        arch=arch,
        image=image,
        cmdline=cmdline,
        timeout_s=timeout,
        memory=memory,
        clock=clock,
        icount_shift=icount_shift,
        trace_syscalls=trace_syscalls,
    )
    console: CharBackend | None = None
    try:
        console = _serial_backends(serial)
        machine = start(config, console)
        state = machine.run(until_ns=timeout_ns(config))
    except BadInput as err:
        click.echo(f"run-virt: error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        click.echo("run-virt: interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # never a traceback for the user
        click.echo(f"run-virt: internal error: {type(err).__name__}: {err}", err=True)
        sys.exit(EXIT_PANIC)
    finally:
        if console is not None:
            console.close()
    code = exit_code_for(machine, state)
    reason = end_reason(machine, state, timeout)
    if reason:
        click.echo(f"run-virt: {reason}", err=True)
    sys.exit(code)


def end_reason(machine: object, state: object, timeout: float | None) -> str | None:
    """The one stderr line saying why the run ended (None for a clean exit 0)."""
    kernel = machine.kernel  # type: ignore[attr-defined]
    if kernel.panic_message:
        return f"kernel panic: {kernel.panic_message}"
    status = machine.exit_status  # type: ignore[attr-defined]
    if status is None:
        return f"guest time limit of {timeout} s reached"
    if status:
        return f"init exited with status {status}"
    return None
