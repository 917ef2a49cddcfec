"""`run-virt`: boot an axiomOS image and show the serial console (QEMU-like flags).

Exit status: init's own exit status when it exits (the machine powers off); 124 when
the guest-time timeout expires; 125 on a kernel panic; 126 for bad input (missing or
corrupt image, a missing init, an init ELF for the wrong architecture).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from emulator.chardev import CharBackend, FileBackend, MuxBackend, NullBackend, StdioBackend
from emulator.config import (
    ARCHES,
    EXIT_BAD_INPUT,
    EXIT_KILLED,
    EXIT_PANIC,
    MachineConfig,
    parse_size,
)
from emulator.gdbstub.stub import GdbKilled
from emulator.gdbstub.transport import DEFAULT_PORT
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
        size = parse_size(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a size like 128M or 1G") from None
    if size < 4 << 20:
        raise click.BadParameter("at least 4M")
    return size


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
    type=float,
    default=None,
    metavar="SECONDS",
    help="Stop after this much guest time (exit status 124).",
)
@click.option(
    "-m",
    "memory",
    default="128M",
    callback=_memory,
    show_default=True,
    help="Guest memory size (ENOMEM beyond it).",
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
@click.option(
    "--gdb",
    "gdb",
    default=None,
    metavar="tcp:[HOST]:PORT|unix:PATH",
    help="Serve the gdb remote protocol here (processes are gdb threads).",
)
@click.option("-s", "gdb_default", is_flag=True, help="Shorthand for --gdb tcp::1234.")
@click.option(
    "-S", "gdb_wait", is_flag=True, help="Stop before the first guest instruction; wait for gdb."
)
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
    gdb: str | None,
    gdb_default: bool,
    gdb_wait: bool,
) -> None:
    """Boot the modelled axiomOS kernel and show its serial console."""
    if gdb is None and gdb_default:
        gdb = f"tcp::{DEFAULT_PORT}"
    if gdb_wait and gdb is None:
        raise click.UsageError("-S waits for gdb: give -s or --gdb too")
    config = MachineConfig(
        arch=arch,
        image=image,
        cmdline=cmdline,
        timeout_s=timeout,
        memory=memory,
        clock=clock,
        icount_shift=icount_shift,
        trace_syscalls=trace_syscalls,
        gdb=gdb,
        gdb_wait=gdb_wait,
    )
    console: CharBackend | None = None
    machine = None
    try:
        console = _serial_backends(serial)
        machine = start(config, console)
        if machine.debugger is not None and machine.debugger.listener is not None:
            waiting = "waiting for gdb" if gdb_wait else "gdb server"
            where = machine.debugger.listener.address
            click.echo(f"run-virt: {waiting} on {where} (target remote {where})", err=True)
        state = machine.run(until_ns=timeout_ns(config))
    except GdbKilled:
        click.echo("run-virt: killed by gdb", err=True)
        sys.exit(EXIT_KILLED)
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
        if machine is not None and machine.debugger is not None:
            machine.debugger.close()
        if console is not None:
            console.close()
    code = exit_code_for(machine, state)
    if machine.kernel.panic_message:
        click.echo(f"run-virt: kernel panic: {machine.kernel.panic_message}", err=True)
    elif code == 124 and machine.exit_status is None:
        click.echo(f"run-virt: guest time limit of {timeout} s reached", err=True)
    sys.exit(code)
