"""`--trace FILE.json`: a timeline in the Chrome Trace Event format (JSON object form),
which ui.perfetto.dev and chrome://tracing open. The exact layout is documented in
the README ("Trace file format"); timestamps are guest time, so a run's trace is
byte-identical across runs (icount clock).

Events are streamed as they happen (memory stays flat on long runs); the track
names (`M` metadata events) are written when the trace is closed, because a
process's name can change with execve.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from emulator.trace.describe import (
    errno_name,
    helper_name,
    proc_label,
    shown_args,
    signed64,
    syscall_name,
)
from emulator.trace.items import TRACE_CATEGORIES
from kernel.abi import IIO_PAYLOAD, MapType, Sys
from kernel.proc import State
from kernel.tracer import KernelTracer

FORMAT = "axiom-virt trace 1"
KERNEL_PID = 0  # the "kernel" process: the CPU track, BPF hook tracks, ringbuf counters
CPU_TID = 0
BPF_TID_BASE = 100  # BPF hook track tid = 100 + attach type value


@dataclasses.dataclass
class _OpenSyscall:
    nr: int
    args: tuple[int, ...]
    start: int
    blocked_at: int | None = None
    sleeping: bool = False


_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _us(ns: int) -> float | int:
    """Guest ns -> the format's microseconds (exact to the ns; ints stay ints)."""
    return ns // 1000 if ns % 1000 == 0 else ns / 1000


class PerfettoTrace(KernelTracer):
    """Writes the trace of one machine; `close()` finishes the file."""

    def __init__(
        self,
        path: Path,
        now_ns: Callable[[], int],
        kernel: Any,
        categories: Iterable[str],
        info: dict[str, object],
    ) -> None:
        self.categories = set(categories)
        for cat in self.categories:
            for flag in TRACE_CATEGORIES[cat]:
                setattr(self, flag, True)
        self.mem = "mem" in self.categories
        self._syscall_cat = "syscall" in self.categories
        self._bpf_cat = "bpf" in self.categories
        self._now = now_ns
        self._kernel = kernel
        self._file: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115 -- closed in close()
        self._first = True
        self._open: dict[int, _OpenSyscall] = {}
        self._names: dict[int, str] = {}
        self._counters: dict[tuple[int, str], int] = {}
        self._cpu: tuple[str, int, dict] | None = None  # (slice name, start, args)
        self._hook_end: dict[int, int] = {}
        self._hooks_seen: dict[int, str] = {}
        self.failed: str | None = None  # why writing stopped, if it did
        header = {"displayTimeUnit": "ns", "otherData": {"format": FORMAT, **info}}
        self._file.write(json.dumps(header, separators=(",", ":"))[:-1] + ',"traceEvents":[\n')

    # ------------------------------------------------------------------ output

    def _emit(self, event: dict) -> None:
        self._write(_ENCODE(event))

    def _write(self, text: str) -> None:
        if self.failed is not None:
            return
        try:
            if not self._first:
                self._file.write(",\n")
            self._first = False
            self._file.write(text)
        except OSError as err:  # e.g. disk full: stop tracing, keep the machine running
            self.failed = f"trace stopped: {err.strerror or err}"

    def _slice(self, name: str, cat: str, pid: int, tid: int, start: int, end: int, args: dict):
        # The hottest event (one per syscall): formatted directly, same bytes as _emit.
        self._write(
            f'{{"ph":"X","name":{_ENCODE(name)},"cat":"{cat}","pid":{pid},"tid":{tid},'
            f'"ts":{_us(start)!r},"dur":{_us(end - start)!r},"args":{_ENCODE(args)}}}'
        )

    def _instant(self, name: str, cat: str, pid: int, tid: int, args: dict) -> None:
        event = {"ph": "i", "s": "t", "name": name, "cat": cat, "pid": pid, "tid": tid}
        self._emit({**event, "ts": _us(self._now()), "args": args})

    def _counter(self, pid: int, name: str, value: int, key: str) -> None:
        if self._counters.get((pid, name)) == value:
            return
        self._counters[(pid, name)] = value
        self._emit(
            {
                "ph": "C",
                "name": name,
                "cat": "mem",
                "pid": pid,
                "ts": _us(self._now()),
                "args": {key: value},
            }
        )

    def _see(self, proc: Any) -> None:
        self._names[proc.pid] = proc_label(proc)

    # ------------------------------------------------------------------ syscalls

    def syscall_enter(self, proc: Any, nr: int, args: tuple[int, ...]) -> None:
        self._see(proc)
        pending = self._open.get(proc.pid)
        if pending is not None and pending.blocked_at is not None and pending.nr == nr:
            self._close_wait(proc.pid, pending)  # the blocked call restarting, not a new one
            return
        self._open[proc.pid] = _OpenSyscall(nr, args, self._now())

    def syscall_exit(self, proc: Any, nr: int, result: int | None) -> None:
        pending = self._open.get(proc.pid)
        if pending is None:
            return
        if result is None and proc.state is State.BLOCKED:
            return  # finishes when the restarted call returns
        del self._open[proc.pid]
        args: dict[str, object] = dict(shown_args(pending.nr, pending.args))
        if result is None:
            args["result"] = "exited" if proc.state is State.ZOMBIE else "exec"
        else:
            args["result"] = result
            name = errno_name(result)
            if name is not None:
                args["errno"] = name
        if self._syscall_cat:
            self._slice(
                syscall_name(pending.nr),
                "syscall",
                proc.pid,
                proc.pid,
                pending.start,
                self._now(),
                args,
            )
        if self.mem:
            self._memory(proc)
            if nr == Sys.BPF:
                self._ringbufs()

    def _close_wait(self, pid: int, pending: _OpenSyscall) -> None:
        assert pending.blocked_at is not None
        if self._syscall_cat or "sched" in self.categories:
            name = "sleeping" if pending.sleeping else "blocked"
            self._slice(
                name,
                "sched",
                pid,
                pid,
                pending.blocked_at,
                self._now(),
                {"syscall": syscall_name(pending.nr)},
            )
        pending.blocked_at = None

    # ------------------------------------------------------------------ scheduling

    def sched_block(self, proc: Any) -> None:
        pending = self._open.get(proc.pid)
        if pending is None:  # sched on, syscalls off: still show the wait
            pending = self._open[proc.pid] = _OpenSyscall(-1, (), self._now())
        pending.blocked_at = self._now()
        pending.sleeping = pending.nr == Sys.NANOSLEEP

    def sched_wake(self, proc: Any) -> None:
        pending = self._open.get(proc.pid)
        if pending is not None and pending.nr == -1:  # no syscall tracking: close here
            self._close_wait(proc.pid, pending)
            del self._open[proc.pid]

    def sched_switch(self, prev: Any, nxt: Any) -> None:
        self._see(nxt)
        args = {"prev_pid": prev.pid if prev is not None else 0, "next_pid": nxt.pid}
        self._instant("sched_switch", "sched", KERNEL_PID, CPU_TID, args)

    def cpu_running(self, proc: Any | None, until_ns: int | None = None) -> None:
        """The machine loop: `proc` runs next, or (None) the CPU idles until `until_ns`."""
        if "sched" not in self.categories:
            return
        now = self._now()
        if proc is None:
            self._end_cpu(now)
            if until_ns is not None and until_ns > now:
                self._slice("idle", "sched", KERNEL_PID, CPU_TID, now, until_ns, {})
            return
        name = proc_label(proc)
        if self._cpu is not None and self._cpu[0] == name:
            return
        self._end_cpu(now)
        self._cpu = (name, now, {"pid": proc.pid})

    def _end_cpu(self, now: int) -> None:
        if self._cpu is not None:
            name, start, args = self._cpu
            if now > start:
                self._slice(name, "sched", KERNEL_PID, CPU_TID, start, now, args)
            self._cpu = None

    # ------------------------------------------------------------------ interrupts

    def interrupt(self, irq: int, timer: bool) -> None:
        name = "timer interrupt" if timer else "interrupt"
        self._instant(name, "irq", KERNEL_PID, CPU_TID, {"irq": irq})

    def iio_sample(self, payload: bytes) -> None:
        ts, dev, channel, value, scale, offset = IIO_PAYLOAD.unpack(payload)
        args = {
            "timestamp": ts,
            "device": dev,
            "channel": channel,
            "value": value,
            "scale": scale,
            "offset": offset,
        }
        self._instant("iio sample", "irq", KERNEL_PID, CPU_TID, args)

    # ------------------------------------------------------------------ BPF

    def bpf_run(self, hook, loaded, r0, steps, cost_ns, helpers, error) -> None:  # noqa: ANN001
        if self._bpf_cat:
            tid = BPF_TID_BASE + int(hook)
            self._hooks_seen[tid] = f"bpf {hook.name}"
            start = max(self._now(), self._hook_end.get(tid, 0))  # programs run in turn
            self._hook_end[tid] = start + cost_ns
            args: dict[str, object] = {
                "prog_id": loaded.id,
                "name": loaded.name,
                "insns": steps,
                "helpers": [helper_name(h) for h in helpers],
            }
            if error is None:
                args["ret"] = signed64(r0)
            else:
                args["error"] = error
            name = loaded.name or f"prog {loaded.id}"
            self._slice(name, "bpf", KERNEL_PID, tid, start, start + cost_ns, args)
        if self.mem:
            self._ringbufs()

    # ------------------------------------------------------------------ memory

    def _memory(self, proc: Any) -> None:
        if proc.state is not State.ZOMBIE:
            self._counter(proc.pid, "memory", proc.mm.mapped_bytes, "bytes")

    def _ringbufs(self) -> None:
        bpf = self._kernel.bpf
        for bpf_map in bpf.maps if bpf is not None else ():
            if bpf_map.map_type is MapType.RINGBUF:
                self._counter(KERNEL_PID, f"ringbuf {bpf_map.id} fill", bpf_map.used, "bytes")
                self._counter(
                    KERNEL_PID, f"ringbuf {bpf_map.id} dropped", bpf_map.dropped, "records"
                )

    # ------------------------------------------------------------------ finish

    def close(self) -> None:
        """End open slices at the current guest time, name the tracks, finish the JSON."""
        if self._file.closed:
            return
        now = self._now()
        self._end_cpu(now)
        for pid, pending in list(self._open.items()):
            if pending.blocked_at is not None:
                self._close_wait(pid, pending)
            if pending.nr >= 0 and self._syscall_cat:
                args = {**shown_args(pending.nr, pending.args), "result": "unfinished"}
                self._slice(syscall_name(pending.nr), "syscall", pid, pid, pending.start, now, args)
        self._open.clear()
        self._meta(KERNEL_PID, None, "process_name", "kernel")
        self._meta(KERNEL_PID, CPU_TID, "thread_name", "cpu0")
        for tid, name in sorted(self._hooks_seen.items()):
            self._meta(KERNEL_PID, tid, "thread_name", name)
        for pid, name in sorted(self._names.items()):
            self._meta(pid, None, "process_name", name)
            self._meta(pid, pid, "thread_name", name)
        self._write_end()

    def _write_end(self) -> None:
        try:
            if self.failed is None:
                self._file.write("\n]}\n")
            self._file.close()
        except OSError as err:
            self.failed = self.failed or f"trace incomplete: {err.strerror or err}"
            try:
                self._file.close()
            except OSError:
                pass

    def _meta(self, pid: int, tid: int | None, kind: str, name: str) -> None:
        event: dict[str, object] = {"ph": "M", "name": kind, "pid": pid}
        if tid is not None:
            event["tid"] = tid
        event["args"] = {"name": name}
        self._emit(event)
