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
    EXIT_PANIC,
    MACHINE_ARCH,
    MachineConfig,
    parse_size,
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
    default=None,
    help="Guest architecture (board pc for x86_64, virt for aarch64) [default: aarch64, "
    "or the --machine's].",
)
@click.option(
    "--machine",
    "-M",
    "machine_name",
    type=click.Choice(list(MACHINE_ARCH)),
    default=None,
    help="Board: pc, virt or rpi5 (Raspberry Pi 5) [default: pc / virt by --arch].",
)
@click.option(
    "--gpio",
    "gpio",
    multiple=True,
    metavar="PIN=LEVEL@TIME",
    help="Drive a GPIO input at a guest time, e.g. 22=1@1.5s (repeatable; rpi5).",
)
@click.option(
    "--gpio-script",
    type=click.Path(path_type=Path),
    default=None,
    help="File of PIN=LEVEL@TIME events, one per line (# comments).",
)
@click.option(
    "--device-log",
    default=None,
    metavar="stderr|none|FILE",
    help="Where GPIO/PWM device events go [default: stderr].",
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
def main(
    arch: str | None,
    machine_name: str | None,
    gpio: tuple[str, ...],
    gpio_script: Path | None,
    device_log: str | None,
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
    if arch is None:
        arch = MACHINE_ARCH[machine_name] if machine_name else "aarch64"
    config = MachineConfig(
        arch=arch,
        machine=machine_name,
        gpio=list(gpio),
        gpio_script=gpio_script,
        device_log=device_log,
        image=image,
        cmdline=cmdline,
        timeout_s=timeout,
        memory=memory,
        clock=clock,
        icount_shift=icount_shift,
        trace_syscalls=trace_syscalls,
    )
    console: CharBackend | None = None
    machine = None
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
        if machine is not None and machine.device_log is not None:
            machine.device_log.close()
    code = exit_code_for(machine, state)
    if machine.kernel.panic_message:
        click.echo(f"run-virt: kernel panic: {machine.kernel.panic_message}", err=True)
    elif code == 124 and machine.exit_status is None:
        click.echo(f"run-virt: guest time limit of {timeout} s reached", err=True)
    sys.exit(code)
