"""`Observability`: builds the tracers a machine's options ask for and installs them.

With no `--trace`, no `-d` and no monitor, nothing is installed: the kernel keeps
its null tracer and no CPU hook exists. The monitor's `log ITEMS` goes through
`set_log_items`, which (re)installs the text log and the in_asm hook at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from emulator.trace.fanout import Tracers
from emulator.trace.in_asm import InAsmLogger
from emulator.trace.perfetto import PerfettoTrace
from emulator.trace.textlog import TextLog
from kernel.tracer import KernelTracer


class Observability:
    def __init__(self, machine: Any) -> None:
        self._machine = machine
        self.perfetto: PerfettoTrace | None = None
        self.text: TextLog | None = None
        self.in_asm: InAsmLogger | None = None
        self._log_stream: TextIO | None = None
        self._own_stream = False

    def _now(self) -> int:
        return self._machine.clock.now_ns()

    def start_trace(self, path: Path, categories: list[str]) -> None:
        config = self._machine.config
        info = {
            "arch": config.arch,
            "cmdline": config.cmdline,
            "clock": config.clock,
            "icount_shift": config.icount_shift,
            "time": "guest nanoseconds since power-on (ts/dur in microseconds)",
        }
        self.perfetto = PerfettoTrace(path, self._now, self._machine.kernel, categories, info)
        self._install()

    def open_log(self, path: Path | None) -> None:
        """Where `-d` lines go: the `-D` file, else stderr (as QEMU)."""
        if path is None:
            self._log_stream, self._own_stream = sys.stderr, False
        else:
            self._log_stream = open(path, "w", encoding="utf-8")  # noqa: SIM115
            self._own_stream = True

    def set_log_items(self, items: list[str]) -> None:
        if self._log_stream is None:
            self.open_log(None)
        assert self._log_stream is not None
        if self.text is None:
            self.text = TextLog(self._log_stream, self._now, self._machine.kernel)
        self.text.set_items(items)
        self._set_in_asm("in_asm" in items)
        self._install()

    def wants(self, item: str) -> bool:
        """Is `-d item` on? (device models test this before formatting a line)."""
        return self.text is not None and self.text.wants(item)

    def emit(self, item: str, text: str) -> None:
        """One `-d` line for `item`, e.g. a board's `gpio`/`pwm` output changes."""
        if self.text is not None:
            self.text.emit(item, text)

    @property
    def log_items(self) -> list[str]:
        return sorted(self.text.items) if self.text is not None else []

    def _set_in_asm(self, on: bool) -> None:
        board, kernel = self._machine.board, self._machine.kernel
        if on and self.in_asm is None:
            assert self.text is not None
            text = self.text
            self.in_asm = InAsmLogger(text.write)
            board.context_observers.append(self.in_asm.attach)
            self.in_asm.attach_all(p.cpu for p in kernel.procs.values())
        elif not on and self.in_asm is not None:
            board.context_observers.remove(self.in_asm.attach)
            self.in_asm.detach_all()
            self.in_asm = None

    def _install(self) -> None:
        members: list[KernelTracer] = [t for t in (self.perfetto, self.text) if t is not None]
        tracer = Tracers(members) if members else KernelTracer()
        active = any(getattr(tracer, f) for f in ("syscalls", "sched", "irq", "bpf", "faults"))
        self._machine.kernel.tracer = tracer if active else KernelTracer()
        self._machine.cpu_tracer = tracer if tracer.sched else None

    def close(self) -> None:
        if self.perfetto is not None:
            self.perfetto.close()
        if self.text is not None:
            self.text.close()
        if self._own_stream and self._log_stream is not None:
            self._log_stream.close()
            self._own_stream = False
