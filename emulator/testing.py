"""Boot tests as a feature: a small API to boot a machine, wait for console output,
and read the log and exit status, plus a pytest fixture built on it.

    from emulator.testing import boot

    def test_hello():
        vm = boot("x86_64", append="init=/bin/t_hello")
        vm.wait_for("hello from a user program")
        assert vm.run_to_end() == 0

Timeouts are in guest seconds, so tests behave the same on slow and fast machines.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from emulator.chardev import MemoryBackend
from emulator.config import DEFAULT_MEMORY, MACHINE_ARCH, ConfigError, MachineConfig
from emulator.devlog import DeviceEvent
from emulator.logview import ANSI, LogLine, parse_log
from emulator.machine import Machine, RunState
from emulator.session import exit_code_for, start

DEFAULT_TIMEOUT_S = 30.0
WAIT_LOOKBACK = 4096  # characters before the last line that a new search re-reads
KERNEL_LINE = re.compile(r"\x1b\[[0-9;]*m(?:ERROR|WARN |INFO |DEBUG)\x1b\[0m [^\n]*\n")


__all__ = ["BootedMachine", "ConfigError", "GuestTimeout", "axiom_vm", "boot"]


class GuestTimeout(AssertionError):
    """The guest did not reach the expected state within the guest-time limit."""


class BootedMachine:
    """A running machine whose console is captured in memory."""

    def __init__(self, config: MachineConfig) -> None:
        self.config = config
        self.backend = MemoryBackend()
        self.machine: Machine = start(config, self.backend)
        self.state: RunState | None = None
        self._text = ConsoleText(self.backend)

    # ---------------------------------------------------------------- console

    @property
    def raw(self) -> bytes:
        """Console bytes exactly as the UART sent them."""
        return self.backend.data

    @property
    def console(self) -> str:
        """Console text with `\\r\\n` folded to `\\n` (the PL011 driver sends `\\r\\n`)."""
        return self._text.text()

    @property
    def text(self) -> str:
        """The console with colour codes removed: what `wait_for` matches against."""
        return self._text.plain()

    @property
    def user_output(self) -> str:
        """The console without kernel log lines: what the guest programs wrote, even
        where a log line landed in the middle of a program's line."""
        return KERNEL_LINE.sub("", self.console)

    @property
    def lines(self) -> list[str]:
        """Console lines with colours stripped."""
        return [line.text for line in parse_log(self.console)]

    @property
    def log(self) -> list[LogLine]:
        """Parsed lines: kernel log lines have level/module/message set."""
        return parse_log(self.console)

    def program_output(self, name: str) -> str:
        """What the program init spawned printed: after init's `Spawned <name> with PID`
        line, up to the kernel's power-off line (kernel log lines in between included)."""
        match = re.search(rf"^Spawned {re.escape(name)} with PID: \d+\n", self.console, re.M)
        if match is None:
            raise AssertionError(f"init did not spawn {name}; console:\n{self.console[-2000:]}")
        after = self.console[match.end() :]
        end = re.search(r"^\S*INFO \S* .*\[kernel\] init exited with status", after, re.M)
        return after[: end.start()] if end else after

    # ---------------------------------------------------------------- devices (rpi5)

    def _board_part(self, name: str) -> Any:
        part = getattr(self.machine.board, name, None)
        if part is None:
            raise AssertionError(f"board {self.machine.board.name} has no {name} (use rpi5)")
        return part

    def gpio_set(self, pin: int, level: int) -> None:
        """Drive GPIO input `pin` to `level` now (at the current guest time); the
        guest sees the edge when the machine runs on."""
        self._board_part("gpio").set_input(pin, level)

    def gpio_level(self, pin: int) -> int:
        """The pin's level as the device sees it (driven output or applied input)."""
        return self._board_part("gpio").level(pin)

    def pwm_duty(self, chip: int, channel: int) -> int:
        """PWM `chip` channel `channel`'s duty cycle in percent (DAT / RNG)."""
        return self._board_part("pwm")[chip].duty_percent(channel)

    @property
    def device_events(self) -> list[DeviceEvent]:
        """Every GPIO output and PWM change the devices reported, with guest times."""
        log = self.machine.device_log
        return list(log.events) if log is not None else []

    def device_messages(self, category: str | None = None) -> list[str]:
        """The reported messages (`gpio: pin 18 -> 1`, `pwm0.1: duty 50%`)."""
        return [e.message for e in self.device_events if category in (None, e.category)]

    # ---------------------------------------------------------------- running

    @property
    def guest_s(self) -> float:
        return self.machine.clock.now_ns() / 1e9

    def wait_for(
        self, pattern: str | re.Pattern[str], timeout: float = DEFAULT_TIMEOUT_S
    ) -> re.Match[str]:
        """Run until the console matches `pattern` (a regex or plain text), searched in
        the text with colour codes removed (`text`).

        What is already on the console is searched first (text printed in the slice
        that powered the machine off counts). Then each time output arrives, only the
        new text is searched, from the start of the line it continues, so a long run
        costs time proportional to its output, not to its output squared. A match may
        span lines if it starts at most WAIT_LOOKBACK characters before that line."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        found: list[re.Match[str]] = []
        resume = 0  # search from here: the start of the last (maybe partial) line

        def check() -> bool:
            nonlocal resume
            text = self._text.plain()
            match = regex.search(text, resume)
            if match:
                found.append(match)
                return True
            resume = max(0, text.rfind("\n") + 1 - WAIT_LOOKBACK)
            return False

        if check():
            return found[0]
        seen = len(self.backend)

        def grew() -> bool:
            nonlocal seen
            if len(self.backend) == seen:
                return False
            seen = len(self.backend)
            return check()

        self._run(timeout, grew)
        if not found:
            check()  # output of the final slice (the machine may have powered off)
        if not found:
            raise GuestTimeout(
                f"{regex.pattern!r} not seen within {timeout} guest s "
                f"(state {self.state}); console tail:\n{self.console[-2000:]}"
            )
        return found[0]

    def run_to_end(self, timeout: float = DEFAULT_TIMEOUT_S) -> int:
        """Run until power-off (or panic/timeout); returns run-virt's exit status.
        A machine that powered off also finishes its trace and log files."""
        self._run(timeout, None)
        if self.state in (RunState.POWERED_OFF, RunState.PANIC):
            self.machine.close()
        return self.exit_status

    def run_for(self, seconds: float) -> None:
        """Run exactly this much more guest time (or until the machine stops)."""
        self._run(seconds, None)

    @property
    def exit_status(self) -> int:
        assert self.state is not None, "the machine has not run yet"
        return exit_code_for(self.machine, self.state)

    def _run(self, timeout: float, stop: Callable[[], bool] | None) -> None:
        until = self.machine.clock.now_ns() + int(timeout * 1e9)
        self.state = self.machine.run(until_ns=until, stop_when=stop)


def boot(
    arch: str = "aarch64",
    *,
    append: str = "",
    image: str | os.PathLike[str] | None = None,
    memory: int | str = DEFAULT_MEMORY,
    timeout: float | str | None = None,
    clock: str = "icount",
    icount_shift: int = 3,
    trace_syscalls: bool = False,
    **options: object,
) -> BootedMachine:
    """Boot a machine. The options are run-virt's, under the same names (`-m` is
    `memory`) and with the same values: `image="/x.img"`, `memory="64M"`. A bad value
    raises ConfigError naming it; an unusable image or init raises BadInput. Other
    MachineConfig fields (options features add) pass through as keywords; an unknown
    keyword is a TypeError. `arch` may also name a board: `boot("rpi5",
    gpio=["22=1@2s"])`; device events are kept for the test API and not written
    anywhere unless `device_log=` says so."""
    if arch in MACHINE_ARCH and arch not in ("x86_64", "aarch64"):
        options.setdefault("machine", arch)
        arch = MACHINE_ARCH[arch]
    options.setdefault("device_log", "none")
    config = MachineConfig.from_options(
        arch,
        image=image,
        append=append,
        timeout=timeout,
        memory=memory,
        clock=clock,
        icount_shift=icount_shift,
        trace_syscalls=trace_syscalls,
    )
    config = dataclasses.replace(config, **options)  # type: ignore[arg-type]
    return BootedMachine(config)


MAX_ESCAPE = 16  # longest colour escape the kernel sends (`ESC[1;94m` is 7)


class ConsoleText:
    """The console decoded once, incrementally: each read decodes only new bytes
    (an incremental UTF-8 decoder keeps a character split across writes whole, and a
    `\\r` at the end waits for a possible `\\n`)."""

    def __init__(self, backend: MemoryBackend) -> None:
        self._backend = backend
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._done = 0
        self._joined = ""
        self._pending_cr = False
        self._plain = ""  # _joined up to _plain_done, colour codes removed
        self._plain_done = 0

    def text(self) -> str:
        size = len(self._backend)
        if size != self._done:
            chunk = self._decoder.decode(self._backend.data_from(self._done))
            self._done = size
            if self._pending_cr:
                chunk = "\r" + chunk
            self._pending_cr = chunk.endswith("\r")
            if self._pending_cr:
                chunk = chunk[:-1]
            self._joined += chunk.replace("\r\n", "\n")
        return self._joined + ("\r" if self._pending_cr else "")

    def plain(self) -> str:
        """`text()` without colour codes, also kept incrementally (an escape sequence
        still arriving at the end waits for its next bytes)."""
        self.text()
        new = self._joined[self._plain_done :]
        esc = new.rfind("\x1b")
        if esc != -1 and len(new) - esc < MAX_ESCAPE and not ANSI.match(new, esc):
            new = new[:esc]
        self._plain += ANSI.sub("", new)
        self._plain_done += len(new)
        return self._plain


def axiom_vm_fixture() -> Iterator[Callable[..., BootedMachine]]:
    """Body of the `axiom_vm` pytest fixture: a factory that boots machines."""
    yield boot


try:  # the fixture, for `from emulator.testing import axiom_vm` in a conftest.py
    import pytest

    axiom_vm = pytest.fixture(axiom_vm_fixture, name="axiom_vm")
except ImportError:  # pragma: no cover - pytest is a dev dependency
    pass
