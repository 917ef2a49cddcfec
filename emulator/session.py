"""Build, boot and run a machine from a `MachineConfig`: shared by the CLI and tests."""

from __future__ import annotations

from emulator.chardev import CharBackend
from emulator.config import EXIT_PANIC, EXIT_TIMEOUT, MachineConfig
from emulator.gdbstub.stub import GdbStub
from emulator.gdbstub.transport import GdbSpecError, Listener
from emulator.machine import BadInput, Machine, RunState


def exit_code_for(machine: Machine, state: RunState) -> int:
    """run-virt's exit status: init's status, or the documented timeout/panic codes."""
    if state is RunState.POWERED_OFF and machine.exit_status is not None:
        return machine.exit_status
    if state is RunState.QUIT:
        return 0
    if state is RunState.PANIC:
        return EXIT_PANIC
    return EXIT_TIMEOUT


def start(config: MachineConfig, console: CharBackend) -> Machine:
    """Create and boot a machine (raises BadInput for unusable input).

    With `config.gdb` the gdb server listens before the kernel boots (so a gdb
    started right after run-virt finds it) and is attached to the machine."""
    machine = Machine(config, console)
    listener = open_listener(config.gdb) if config.gdb else None
    try:
        machine.boot()
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    if listener is not None:
        machine.debugger = GdbStub(machine, listener, wait=config.gdb_wait)
    return machine


def open_listener(spec: str) -> Listener:
    """The gdb server socket, or BadInput with the reason."""
    try:
        return Listener(spec)
    except GdbSpecError as err:
        raise BadInput(str(err)) from None


def timeout_ns(config: MachineConfig) -> int | None:
    return None if config.timeout_s is None else int(config.timeout_s * 1_000_000_000)
