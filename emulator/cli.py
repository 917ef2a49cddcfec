"""`run-virt`: boot an axiomOS image and show the serial console (QEMU-like flags).

Exit status: init's own exit status when it exits (the machine powers off); 124 when
the guest-time timeout expires; 125 on a kernel panic; 126 for bad input (missing or
corrupt image, a missing init, an init ELF for the wrong architecture, a kernel command
line that does not parse); 2 for a bad option or option value. Whenever the status is
not 0, one line on stderr says why the run ended, so a guest exiting with 124 is never
mistaken for a timeout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from emulator import qemu_compat
from emulator.chardev import (
    CharBackend,
    FileBackend,
    MuxBackend,
    NullBackend,
    StdioBackend,
    color_enabled,
)
from emulator.config import (
    ARCHES,
    DEFAULT_MACHINE,
    EXIT_BAD_INPUT,
    EXIT_KILLED,
    EXIT_PANIC,
    MACHINE_ARCH,
    ConfigError,
    MachineConfig,
    memory_bytes,
    timeout_seconds,
)
from emulator.gdbstub.stub import GdbKilled
from emulator.gdbstub.transport import DEFAULT_PORT
from emulator.machine import BadInput, Machine, RunState
from emulator.monitor.server import Monitor, MonitorError
from emulator.session import exit_code_for, start, timeout_ns
from emulator.stats import format_stats
from emulator.trace.items import LOG_ITEMS, TRACE_CATEGORIES, UnknownItem, items_help, parse_list


def _serial_backends(specs: tuple[str, ...], color: bool = True) -> CharBackend:
    backends: list[CharBackend] = []
    for spec in specs or ("stdio",):
        if spec == "stdio":
            backends.append(StdioBackend(color=color))
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


def _log_items(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple:
    if value is None:
        return ()
    if value.strip() == "help":
        click.echo(items_help())
        _ctx.exit(0)
    try:
        return tuple(parse_list(value, LOG_ITEMS, "log item"))
    except UnknownItem as err:
        raise click.BadParameter(f"{err} (-d help lists them)") from None


def _trace_events(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple:
    try:
        return tuple(parse_list(value, TRACE_CATEGORIES, "trace category"))
    except UnknownItem as err:
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
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE.json",
    help="Write a timeline (Chrome Trace Event JSON; open in ui.perfetto.dev).",
)
@click.option(
    "--trace-events",
    default=",".join(TRACE_CATEGORIES),
    callback=_trace_events,
    show_default=True,
    metavar="LIST",
    help="Trace categories: " + ",".join(TRACE_CATEGORIES) + ".",
)
@click.option(
    "-d",
    "log_items",
    default=None,
    callback=_log_items,
    metavar="ITEMS",
    help="QEMU-style log items, comma separated (`-d help` lists them).",
)
@click.option(
    "-D",
    "log_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write -d output to FILE instead of stderr.",
)
@click.option(
    "--monitor",
    "monitor_spec",
    default=None,
    metavar="stdio|unix:PATH|tcp:HOST:PORT",
    help="QEMU-style monitor (also for axiom-bpftool).",
)
@click.option("--stats", is_flag=True, help="Print per-process and per-program tables at the end.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colours on the terminal console (auto: a tty and no NO_COLOR).",
)
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
@click.option(
    "--machine-info",
    is_flag=True,
    help="Print the board's memory map (name, device, bus, base, size, IRQ) and exit.",
)
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
    trace_file: Path | None,
    trace_events: tuple[str, ...],
    log_items: tuple[str, ...],
    log_file: Path | None,
    monitor_spec: str | None,
    stats: bool,
    color: str,
    gdb: str | None,
    gdb_default: bool,
    gdb_wait: bool,
    machine_info: bool,
) -> None:
    """Boot the modelled axiomOS kernel and show its serial console."""
    if arch is None:
        arch = MACHINE_ARCH[machine_name] if machine_name else "aarch64"
    if machine_info:
        sys.exit(_print_machine_info(arch, machine_name))
    if gdb is None and gdb_default:
        gdb = f"tcp::{DEFAULT_PORT}"
    if gdb_wait and gdb is None:
        raise click.UsageError("-S waits for gdb: give -s or --gdb too")
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
        trace=trace_file,
        trace_events=trace_events,
        log_items=log_items,
        log_file=log_file,
        gdb=gdb,
        gdb_wait=gdb_wait,
    )
    console: CharBackend | None = None
    machine = None
    monitor: Monitor | None = None
    try:
        console = _serial_backends(serial, color_enabled(color, sys.stdout, dict(os.environ)))
        machine = start(config, console)
        if monitor_spec is not None:
            monitor = Monitor(machine, monitor_spec)
        if machine.debugger is not None and machine.debugger.listener is not None:
            waiting = "waiting for gdb" if gdb_wait else "gdb server"
            where = machine.debugger.listener.address
            click.echo(f"run-virt: {waiting} on {where} (target remote {where})", err=True)
        state = machine.run(until_ns=timeout_ns(config))
    except MonitorError as err:
        click.echo(f"run-virt: error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
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
        if monitor is not None:
            monitor.close()
        if machine is not None and machine.debugger is not None:
            machine.debugger.close()
        if machine is not None:
            machine.close()
        if console is not None:
            console.close()
    if stats:
        click.echo(format_stats(machine.kernel), err=True)
    if machine.obs.perfetto is not None and machine.obs.perfetto.failed:
        click.echo(f"run-virt: warning: {config.trace}: {machine.obs.perfetto.failed}", err=True)
    code = exit_code_for(machine, state)
    reason = end_reason(machine, state, timeout)
    if reason:
        click.echo(f"run-virt: {reason}", err=True)
    sys.exit(code)


def _print_machine_info(arch: str, machine_name: str | None) -> int:
    """`--machine-info`: the board's table, the one the buses and the kernel use."""
    from emulator.boards import MACHINES

    board = machine_name or DEFAULT_MACHINE[arch]
    if MACHINE_ARCH[board] != arch:
        click.echo(
            f"run-virt: error: machine {board} is {MACHINE_ARCH[board]}, not {arch}", err=True
        )
        return EXIT_BAD_INPUT
    for line in MACHINES[board].description.table():
        click.echo(line)
    return 0


def end_reason(machine: Machine, state: RunState, timeout: float | None) -> str | None:
    """The one stderr line saying why the run ended (None for a clean exit 0)."""
    kernel = machine.kernel
    if kernel.panic_message:
        return f"kernel panic: {kernel.panic_message}"
    status = machine.exit_status
    if status is None:
        return f"guest time limit of {timeout} s reached"
    if status:
        return f"init exited with status {status}"
    return None
