"""`-d ITEMS -D FILE`: QEMU-style text logging, one line per event.

Line format (documented in the README): `[<guest seconds, 9 decimals>] <item>: <text>`,
e.g. `[   0.123456789] syscall: pid 2 (bpf_loader) write(fd=1, buf=0x4002a0,
count=37) = 37`. in_asm blocks are multi-line, as QEMU's. Items can change while
the machine runs (the monitor's `log`); `flags()` tells which kernel events that needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TextIO

from emulator.trace.describe import (
    errno_name,
    format_call,
    format_result,
    helper_name,
    proc_label,
    signed64,
)
from emulator.trace.items import LOG_ITEMS
from kernel.abi import IIO_PAYLOAD, Errno, MapType, Sys
from kernel.proc import State
from kernel.tracer import KernelTracer

FLAGS = ("syscalls", "sched", "irq", "bpf", "faults")
GUEST_ERRNOS = (Errno.EFAULT, Errno.ENOSYS)


class TextLog(KernelTracer):
    """Writes enabled items to `stream` (stderr or the -D file)."""

    def __init__(self, stream: TextIO, now_ns: Callable[[], int], kernel: Any) -> None:
        self.stream = stream
        self._now = now_ns
        self._kernel = kernel
        self.items: set[str] = set()
        self._blocked: dict[int, int] = {}  # pid -> nr of the call it blocked in
        self._memory: dict[int, int] = {}
        self._rings: dict[int, tuple[int, int]] = {}

    def set_items(self, items: Iterable[str]) -> None:
        self.items = set(items)
        for flag in FLAGS:
            setattr(self, flag, False)
        for name in self.items:
            for flag in LOG_ITEMS[name].flags:
                setattr(self, flag, True)

    def wants(self, item: str) -> bool:
        return item in self.items

    def emit(self, item: str, text: str) -> None:
        """One line for `item` (device models call this for their own items)."""
        if item in self.items:
            ns = self._now()
            self.write(f"[{ns // 10**9:4d}.{ns % 10**9:09d}] {item}: {text}\n")

    def write(self, text: str) -> None:
        """Raw text (in_asm blocks); a failing stream (disk full) ends the logging."""
        try:
            self.stream.write(text)
        except (OSError, ValueError):
            self.items = set()

    def close(self) -> None:
        try:
            if not self.stream.closed:
                self.stream.flush()
        except OSError:
            pass

    # ------------------------------------------------------------------ events

    def syscall_enter(self, proc: Any, nr: int, args: tuple[int, ...]) -> None:
        if self._blocked.get(proc.pid) == nr:
            return
        self._blocked.pop(proc.pid, None)
        self._args = args

    def syscall_exit(self, proc: Any, nr: int, result: int | None) -> None:
        label = proc_label(proc)
        call = format_call(nr, self._args) if proc.pid not in self._blocked else None
        if result is None:
            if proc.state is State.BLOCKED:
                if call is not None:
                    self.emit("syscall", f"{label} {call} = ? (blocked)")
                self._blocked[proc.pid] = nr
                return
            outcome = "exited" if proc.state is State.ZOMBIE else "exec"
            self.emit("syscall", f"{label} {call or 'resumed'} = ? ({outcome})")
        else:
            resumed = "resumed " if call is None else ""
            self.emit(
                "syscall",
                f"{label} {resumed}{call or ''} = {format_result(result)}".replace("  ", " "),
            )
            if errno_name(result) and -result in GUEST_ERRNOS:
                self.emit("guest_errors", f"{label} {call or 'syscall'} -> {errno_name(result)}")
        self._blocked.pop(proc.pid, None)
        if "mem" in self.items:
            self._mem(proc, nr)

    def _mem(self, proc: Any, nr: int) -> None:
        if proc.state is not State.ZOMBIE:
            size = proc.mm.mapped_bytes
            if self._memory.get(proc.pid) != size:
                self._memory[proc.pid] = size
                self.emit("mem", f"{proc_label(proc)} memory {size} bytes")
        if nr == Sys.BPF:
            self._ringbufs()

    def _ringbufs(self) -> None:
        bpf = self._kernel.bpf
        for m in bpf.maps if bpf is not None else ():
            if m.map_type is MapType.RINGBUF and self._rings.get(m.id) != (m.used, m.dropped):
                self._rings[m.id] = (m.used, m.dropped)
                self.emit(
                    "mem",
                    f"ringbuf {m.id} fill {m.used}/{m.max_entries} bytes, {m.dropped} dropped",
                )

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        before = proc_label(prev) if prev is not None else "none"
        self.emit("sched", f"switch {before} -> {proc_label(nxt)}")

    def sched_block(self, proc: Any) -> None:
        self.emit("sched", f"block {proc_label(proc)}")

    def sched_wake(self, proc: Any) -> None:
        self.emit("sched", f"wake {proc_label(proc)}")

    def cpu_running(self, proc: Any | None, until_ns: int | None = None) -> None:
        if proc is None and until_ns is not None and "sched" in self.items:
            self.emit("sched", f"idle until {until_ns} ns")

    def interrupt(self, irq: int, timer: bool) -> None:
        kind = "timer tick" if timer else "interrupt"
        self.emit("irq", f"irq {irq} {kind} #{self._kernel.ticks + 1 if timer else ''}".rstrip())

    def iio_sample(self, payload: bytes) -> None:
        ts, dev, channel, value, scale, offset = IIO_PAYLOAD.unpack(payload)
        self.emit(
            "irq",
            f"iio sample device {dev} channel {channel} value {value} "
            f"scale {scale} offset {offset} timestamp {ts}",
        )

    def bpf_run(self, hook, loaded, r0, steps, cost_ns, helpers, error) -> None:  # noqa: ANN001
        calls = ",".join(helper_name(h) for h in helpers) or "-"
        what = f"ret {signed64(r0)}" if error is None else f"error: {error}"
        self.emit(
            "bpf",
            f"{hook.name} prog {loaded.id} ({loaded.name or '-'}) insns {steps} "
            f"cost {cost_ns} ns helpers {calls} {what}",
        )
        if error is not None:
            self.emit("guest_errors", f"BPF prog {loaded.id} on {hook.name} failed: {error}")
        if "mem" in self.items:
            self._ringbufs()

    def guest_fault(self, proc: Any, message: str) -> None:
        self.emit("guest_errors", message)
