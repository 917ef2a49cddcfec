"""The gdb server: serves the remote protocol and holds the machine while gdb has it.

The machine's run loop calls four debugger callbacks (`before_slice`, `after_slice`,
`on_fault`, `idle`) and `machine_ended`. Between slices the stub polls its socket (Ctrl-C, a
client connecting, a client vanishing); when something stops the machine it sends
the stop reply and serves packets until gdb resumes. Nothing here advances guest
time: a stop is between instructions, so the console is the same with or without gdb.

Every live process is a gdb thread (thread id = pid). `Hg` picks whose registers and
memory the following packets use, so switching thread switches address space, and a
breakpoint goes into the address space of the thread selected when gdb inserts it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from xml.sax.saxutils import escape, quoteattr

from emulator.config import EXIT_PANIC, EXIT_TIMEOUT
from emulator.cpu.base import FaultKind, GuestCpu, SliceResult, StopReason
from emulator.cpu.debug import CpuDebug, WatchKind
from emulator.gdbstub import packets
from emulator.gdbstub.hostio import EINVAL, GuestFiles, HostIoError
from emulator.gdbstub.packets import BadPacket, Interrupt, Packet, PacketReader
from emulator.gdbstub.registers import REGISTER_FILES
from emulator.gdbstub.transport import Connection, Listener
from kernel.proc import State

if TYPE_CHECKING:
    from emulator.machine import Machine, RunState
    from kernel.proc import Process

SIGINT, SIGILL, SIGTRAP, SIGFPE, SIGSEGV = 2, 4, 5, 8, 11
FAULT_SIGNALS = {
    FaultKind.ILLEGAL_INSTRUCTION: SIGILL,
    FaultKind.DIVIDE_ERROR: SIGFPE,
    FaultKind.BREAKPOINT: SIGTRAP,
}
POLL_INTERVAL_NS = 5_000_000
MAX_MEMORY_REPLY = packets.MAX_PACKET // 2 - 16
PAGE = 0x1000
_WATCH_REASON = {WatchKind.WRITE: "watch", WatchKind.READ: "rwatch", WatchKind.ACCESS: "awatch"}


def _owner(cpu: GuestCpu) -> Process | None:
    """The process on ``cpu``: the CPU keeps it as an opaque ``object``, the kernel
    only ever stores a `Process` there."""
    return cast("Process | None", cpu.owner)


class GdbKilled(Exception):
    """gdb sent `k` / `vKill`: the machine stops here (run-virt exits 137)."""


class _Resume(Exception):
    """Internal: a packet resumed the machine (continue, step, detach)."""


class GdbStub:
    """One gdb server attached to one machine."""

    def __init__(self, machine: Machine, listener: Listener, wait: bool) -> None:
        self.machine = machine
        self.kernel = machine.kernel
        self.regs = REGISTER_FILES[machine.config.arch]
        self.listener: Listener | None = listener
        self.conn: Connection | None = None
        self.reader = PacketReader()
        self.no_ack = False
        self.client_features: set[str] = set()
        self.stop_requested = wait  # -S: hold before the first guest instruction
        self.stop_signal = SIGTRAP
        self.reply_owed = False  # gdb resumed us and is waiting for a stop reply
        self.last_stop = b"S05"
        self.stop_pid = 0
        self.general_pid = 0  # Hg: registers and memory
        self.step_pid: int | None = None
        self.resume_signal = 0
        self.files = GuestFiles(machine.config.image_path())
        self._next_poll = 0

    # ------------------------------------------------------------ run-loop callbacks

    def before_slice(self, cpu: GuestCpu, default_cap: int) -> int:
        """Called before every CPU slice; returns the slice's instruction cap."""
        self._poll()
        proc = _owner(cpu)
        if self.stop_requested:
            self._stop(proc, self.stop_signal)
        if cpu.debug is not None and cpu.debug.skip_first:
            return 1
        if self.step_pid is not None and proc is not None and proc.pid == self.step_pid:
            return 1
        return default_cap

    def idle(self) -> None:
        """Nothing runnable: still answer Ctrl-C and new clients."""
        self._poll()
        if self.stop_requested:
            self._stop(self.kernel.sched.last or self.kernel.init, self.stop_signal)

    def after_slice(self, cpu: GuestCpu, result: SliceResult) -> None:
        proc = _owner(cpu)
        if proc is None:
            return
        if result.reason is StopReason.DEBUG and cpu.debug is not None and cpu.debug.hit:
            hit = cpu.debug.hit
            if hit.watch is not None:
                self._stop(proc, SIGTRAP, f"{_WATCH_REASON[hit.watch]}:{hit.address:x};")
            else:
                reason = "swbreak:;" if "swbreak+" in self.client_features else ""
                self._stop(proc, SIGTRAP, reason)
            return
        if proc.cpu is not cpu and proc.state is not State.ZOMBIE:
            # execve replaced the address space: tell gdb, which loads the new symbols.
            if self.conn is not None and "exec-events+" in self.client_features:
                path = (proc.exe_path or proc.name).encode().hex()
                self._stop(proc, SIGTRAP, f"exec:{path};")
                return
        if (
            self.step_pid is not None
            and proc.pid == self.step_pid
            and proc.cpu is cpu
            and proc.state is not State.BLOCKED
            and proc.state is not State.ZOMBIE
            and (result.executed > 0 or self.machine.clock.mode == "host")
        ):
            self._stop(proc, SIGTRAP)

    def on_fault(self, cpu: GuestCpu, result: SliceResult) -> bool:
        """A guest fault: with gdb attached, stop at the faulting instruction first.

        Returns whether the kernel should deliver it (kill the process). gdb's
        `continue` passes the signal on; `signal 0` discards it and the instruction
        runs again, as on a real system."""
        proc = _owner(cpu)
        fault = result.fault
        if self.conn is None or proc is None or fault is None:
            return True
        cpu.pc = fault.pc
        self._stop(proc, FAULT_SIGNALS.get(fault.kind, SIGSEGV))
        return self.resume_signal != 0

    def machine_ended(self, state: RunState, exit_status: int | None) -> None:
        """Power-off, panic or timeout: report it as run-virt's exit status, close up."""
        if self.conn is not None and self.reply_owed:
            if exit_status is None:
                exit_status = EXIT_PANIC if state.name == "PANIC" else EXIT_TIMEOUT
            self._send(f"W{exit_status & 0xFF:02x}")
        self.close()

    def close(self) -> None:
        self._drop_client()
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    # ------------------------------------------------------------ connection

    def _poll(self) -> None:
        now = time.monotonic_ns()
        if now < self._next_poll:
            return
        self._next_poll = now + POLL_INTERVAL_NS
        if self.conn is None:
            if self.listener is not None:
                conn = self.listener.accept(block=False)
                if conn is not None:
                    self._attach(conn)
                    self.stop_requested, self.stop_signal = True, SIGTRAP
            return
        data = self.conn.recv(block=False)
        if self.conn.closed:
            self._drop_client()
            return
        for event in self.reader.feed(data):
            if isinstance(event, Interrupt):
                self.stop_requested, self.stop_signal = True, SIGINT

    def _attach(self, conn: Connection) -> None:
        self.conn = conn
        self.reader = PacketReader()
        self.no_ack = False
        self.client_features = set()
        self.reply_owed = False
        self.files.close_all()

    def _drop_client(self) -> None:
        """Detach: every breakpoint and watchpoint goes, the machine runs on."""
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.reply_owed = False
        self.step_pid = None
        self.stop_requested = False
        for cpu in self._all_cpus():
            if cpu.debug is not None:
                cpu.debug.clear()
                cpu.debug = None

    def _send(self, payload: str | bytes) -> None:
        if self.conn is None:
            return
        data = payload.encode() if isinstance(payload, str) else payload
        self.conn.send(packets.frame(data))

    # ------------------------------------------------------------ stopped

    def _stop(self, proc: Process | None, signal: int, extra: str = "") -> None:
        """Hold the machine and serve gdb until it resumes (or goes away)."""
        self.stop_requested = False
        self.step_pid = None
        pid = proc.pid if proc is not None else 0
        self.stop_pid = self.general_pid = pid
        thread = f"thread:{pid:x};" if pid else ""
        self.last_stop = f"T{signal:02x}{thread}{extra}".encode()
        if self.conn is None:
            if self.listener is None:
                return
            conn = self.listener.accept(block=True)
            if conn is None:
                return
            self._attach(conn)
        if self.reply_owed:
            self._send(self.last_stop)
            self.reply_owed = False
        self.machine.clock.hold()
        try:
            self._serve()
        finally:
            self.machine.clock.release()
        if self.conn is not None and proc is not None and proc.cpu.debug is not None:
            proc.cpu.debug.skip_first = True

    def _serve(self) -> None:
        while self.conn is not None:
            data = self.conn.recv(block=True)
            if self.conn.closed:
                self._drop_client()
                return
            for event in self.reader.feed(data):
                if isinstance(event, BadPacket):
                    if not self.no_ack:
                        self.conn.send(b"-")
                    continue
                if not isinstance(event, Packet):
                    continue  # acks, and Ctrl-C while already stopped
                if not self.no_ack:
                    self.conn.send(b"+")
                try:
                    reply = self.handle(event.payload)
                except _Resume:
                    return
                if reply is not None:
                    self._send(reply)

    # ------------------------------------------------------------ threads

    def _threads(self) -> list[Process]:
        return sorted(
            (p for p in self.kernel.procs.values() if p.state is not State.ZOMBIE),
            key=lambda p: p.pid,
        )

    def _all_cpus(self) -> list[GuestCpu]:
        return [p.cpu for p in self.kernel.procs.values() if p.cpu.uc is not None]

    def _thread(self, pid: int) -> Process | None:
        if pid in (0, -1):
            pid = self.stop_pid
        proc = self.kernel.procs.get(pid)
        if proc is None or proc.state is State.ZOMBIE:
            threads = self._threads()
            return threads[0] if threads and pid == self.stop_pid else None
        return proc

    def _general(self) -> Process:
        proc = self._thread(self.general_pid)
        if proc is None:
            raise _Error(0x03)  # ESRCH
        return proc

    # ------------------------------------------------------------ packets

    def handle(self, payload: bytes) -> str | bytes | None:
        """The reply to one packet (None: send nothing). Raises _Resume to resume."""
        try:
            text = payload.decode("latin-1")
            for prefix, handler in self._dispatch:
                if text.startswith(prefix):
                    return handler(self, text[len(prefix) :], payload[len(prefix) :])
            return ""
        except _Error as err:
            return f"E{err.code:02x}"
        except (_Resume, GdbKilled):
            raise
        except Exception:  # a malformed packet must never take the machine down
            return "E01"

    def _q_supported(self, args: str, _raw: bytes) -> str:
        self.client_features = {f for f in args.lstrip(":").split(";") if f}
        features = [
            f"PacketSize={packets.MAX_PACKET:x}",
            "qXfer:features:read+",
            "qXfer:threads:read+",
            "qXfer:exec-file:read+",
            "swbreak+",
            "hwbreak+",
            "vContSupported+",
            "QStartNoAckMode+",
        ]
        if "exec-events+" in self.client_features:
            features.append("exec-events+")
        return ";".join(features)

    def _no_ack(self, _args: str, _raw: bytes) -> None:
        self._send("OK")  # acknowledged in ack mode, then acks stop both ways
        self.no_ack = True

    def _q_xfer(self, args: str, _raw: bytes) -> str | bytes:
        obj, _, rest = args.partition(":")
        op, _, rest = rest.partition(":")
        annex, _, span = rest.partition(":")
        if op != "read":
            return ""
        if obj == "features":
            if annex != "target.xml":
                return "E00"
            document = self.regs.target_xml().encode()
        elif obj == "threads":
            document = self._threads_xml().encode()
        elif obj == "exec-file":
            proc = self._thread(int(annex, 16) if annex else self.general_pid)
            if proc is None:
                return "E03"
            document = (proc.exe_path or f"/bin/{proc.name}").encode()
        else:
            return ""
        offset, length = (int(v, 16) for v in span.split(","))
        chunk = document[offset : offset + min(length, MAX_MEMORY_REPLY)]
        more = offset + len(chunk) < len(document)
        return (b"m" if more else b"l") + packets.escape(chunk)

    def _threads_xml(self) -> str:
        rows = [
            f'<thread id="{p.pid:x}" name={quoteattr(p.name)}>{escape(self._describe(p))}</thread>'
            for p in self._threads()
        ]
        return '<?xml version="1.0"?>\n<threads>\n' + "\n".join(rows) + "\n</threads>\n"

    @staticmethod
    def _describe(proc: Process) -> str:
        return f"pid {proc.pid} {proc.name} ({proc.state.value})"

    def _q_thread_info(self, _args: str, _raw: bytes) -> str:
        threads = self._threads()
        return "m" + ",".join(f"{p.pid:x}" for p in threads) if threads else "l"

    def _q_thread_extra(self, args: str, _raw: bytes) -> str:
        proc = self._thread(int(args.lstrip(","), 16))
        if proc is None:
            return "E03"
        return self._describe(proc).encode().hex()

    def _q_current(self, _args: str, _raw: bytes) -> str:
        return f"QC{self.stop_pid:x}" if self.stop_pid else ""

    def _set_thread(self, args: str, _raw: bytes) -> str:
        op, tid = args[0], int(args[1:], 16) if args[1:] not in ("-1",) else -1
        if tid not in (0, -1) and self._thread(tid) is None:
            return "E03"
        if op == "g":
            self.general_pid = tid if tid > 0 else self.stop_pid
        return "OK"

    def _thread_alive(self, args: str, _raw: bytes) -> str:
        return "OK" if self._thread(int(args, 16)) is not None else "E03"

    def _read_registers(self, _args: str, _raw: bytes) -> str:
        return self.regs.read_all(self._general().cpu).hex()

    def _write_registers(self, args: str, _raw: bytes) -> str:
        self.regs.write_all(self._general().cpu, bytes.fromhex(args))
        return "OK"

    def _read_register(self, args: str, _raw: bytes) -> str:
        regnum = int(args, 16)
        if regnum >= len(self.regs.regs):
            return "E00"
        return self.regs.read(self._general().cpu, regnum).hex()

    def _write_register(self, args: str, _raw: bytes) -> str:
        num, _, value = args.partition("=")
        regnum = int(num, 16)
        if regnum >= len(self.regs.regs):
            return "E00"
        self.regs.write(self._general().cpu, regnum, bytes.fromhex(value))
        return "OK"

    def _memory_span(self, args: str) -> tuple[int, int]:
        addr, _, length = args.partition(",")
        address, size = int(addr, 16), int(length, 16)
        if address < 0 or size < 0 or address + size > 1 << 64:
            raise _Error(0x16)
        return address, size

    def _read_memory(self, address: int, size: int) -> bytes:
        """As many bytes from `address` as are mapped (page by page), at most a packet."""
        cpu = self._general().cpu
        size = min(size, MAX_MEMORY_REPLY)
        out = bytearray()
        while len(out) < size:
            here = address + len(out)
            take = min(size - len(out), PAGE - (here % PAGE))
            try:
                out += cpu.uc.mem_read(here, take)
            except Exception:
                break
        if size and not out:
            raise _Error(0x0E)  # EFAULT, as gdbserver
        return bytes(out)

    def _m(self, args: str, _raw: bytes) -> str:
        return self._read_memory(*self._memory_span(args)).hex()

    def _x(self, args: str, _raw: bytes) -> bytes:
        return b"b" + packets.escape(self._read_memory(*self._memory_span(args)))

    def _write_memory(self, address: int, data: bytes) -> str:
        if not data:
            return "OK"
        cpu = self._general().cpu
        try:
            cpu.write(address, data)  # (drops code translated from the old bytes)
        except Exception:  # UcError: not mapped
            return "E0e"
        return "OK"

    def _M(self, args: str, _raw: bytes) -> str:
        span, _, data = args.partition(":")
        address, size = self._memory_span(span)
        body = bytes.fromhex(data)
        if len(body) != size:
            return "E16"
        return self._write_memory(address, body)

    def _X(self, _args: str, raw: bytes) -> str:
        span, sep, data = raw.partition(b":")
        if not sep:
            return "E16"
        address, size = self._memory_span(span.decode("latin-1"))
        body = packets.unescape(data)
        if len(body) != size:
            return "E16"
        return self._write_memory(address, body)

    def _breakpoint(self, args: str, insert: bool) -> str:
        kind_text, addr_text, length_text = args.split(";")[0].split(",")
        kind, address, length = int(kind_text), int(addr_text, 16), int(length_text, 16)
        if kind in (0, 1):
            if insert:
                self._debug_of(self._general().cpu).add_breakpoint(address)
            else:
                for cpu in self._all_cpus():
                    if cpu.debug is not None:
                        cpu.debug.remove_breakpoint(address)
            return "OK"
        if kind in (2, 3, 4):
            if length <= 0 or length > 1 << 20:
                return "E16"
            watch = WatchKind(kind)
            if insert:
                self._debug_of(self._general().cpu).add_watchpoint(address, length, watch)
            else:
                for cpu in self._all_cpus():
                    if cpu.debug is not None:
                        cpu.debug.remove_watchpoint(address, length, watch)
            return "OK"
        return ""

    @staticmethod
    def _debug_of(cpu: GuestCpu) -> CpuDebug:
        if cpu.debug is None:
            cpu.debug = CpuDebug(cpu)
        return cpu.debug

    def _insert(self, args: str, _raw: bytes) -> str:
        return self._breakpoint(args, True)

    def _remove(self, args: str, _raw: bytes) -> str:
        return self._breakpoint(args, False)

    # ------------------------------------------------------------ resuming

    def _resume(self, step_pid: int | None, signal: int, address: str = "") -> None:
        if address:
            self._thread_or_fail(self.stop_pid).cpu.pc = int(address, 16)
        self.step_pid = step_pid
        self.resume_signal = signal
        self.reply_owed = True
        raise _Resume

    def _thread_or_fail(self, pid: int) -> Process:
        proc = self._thread(pid)
        if proc is None:
            raise _Error(0x03)
        return proc

    def _continue(self, args: str, _raw: bytes) -> str:
        self._resume(None, 0, args)
        return ""

    def _continue_signal(self, args: str, _raw: bytes) -> str:
        sig, _, address = args.partition(";")
        self._resume(None, int(sig, 16), address)
        return ""

    def _step(self, args: str, _raw: bytes) -> str:
        self._thread_or_fail(self.stop_pid)
        self._resume(self.stop_pid, 0, args)
        return ""

    def _step_signal(self, args: str, _raw: bytes) -> str:
        sig, _, address = args.partition(";")
        self._resume(self.stop_pid, int(sig, 16), address)
        return ""

    def _v_cont_query(self, _args: str, _raw: bytes) -> str:
        return "vCont;c;C;s;S"

    def _v_cont(self, args: str, _raw: bytes) -> str:
        """`vCont;ACTION[:TID]...`: the first action naming a thread applies to it."""
        step: int | None = None
        signal = 0
        stop_thread_decided = False
        for action in args.lstrip(";").split(";"):
            if not action:
                continue
            verb, _, tid_text = action.partition(":")
            tid = -1 if tid_text in ("", "-1") else int(tid_text, 16)
            op, sig = verb[0], int(verb[1:] or "0", 16)
            if op not in "cCsS":
                return "E16" if op not in "tr" else ""
            target = self.stop_pid if tid in (-1, 0) else tid
            if op in "sS" and step is None:
                self._thread_or_fail(target)
                step = target
            if not stop_thread_decided and (tid in (-1, 0) or tid == self.stop_pid):
                signal = sig if op in "CS" else 0
                stop_thread_decided = True
        self._resume(step, signal)
        return ""

    def _detach(self, _args: str, _raw: bytes) -> str:
        self._send("OK")
        self._drop_client()
        raise _Resume

    def _kill(self, _args: str, _raw: bytes) -> str:
        self._send("OK")
        self.close()
        raise GdbKilled("killed by gdb")

    def _v_file(self, args: str, _raw: bytes) -> str | bytes:
        """Host I/O on the guest's root file system (read-only)."""
        op, _, rest = args.partition(":")
        fields = rest.split(",")
        try:
            if op == "setfs":
                return "F0"
            if op == "open":
                path = bytes.fromhex(fields[0]).decode(errors="surrogateescape")
                return f"F{self.files.open(path, int(fields[1], 16)):x}"
            if op == "pread":
                fd, count, offset = (int(f, 16) for f in fields)
                data = self.files.pread(fd, min(count, MAX_MEMORY_REPLY // 2), offset)
                return f"F{len(data):x};".encode() + packets.escape(data)
            if op == "fstat":
                data = self.files.fstat(int(fields[0], 16))
                return f"F{len(data):x};".encode() + packets.escape(data)
            if op == "close":
                self.files.close(int(fields[0], 16))
                return "F0"
        except HostIoError as err:
            return f"F-1,{err.errno:x}"
        except (ValueError, IndexError):
            return f"F-1,{EINVAL:x}"
        return ""

    def _stop_reason(self, _args: str, _raw: bytes) -> bytes:
        return self.last_stop

    def _empty(self, _args: str, _raw: bytes) -> str:
        return ""

    def _ok(self, _args: str, _raw: bytes) -> str:
        return "OK"

    def _attached(self, _args: str, _raw: bytes) -> str:
        return "1"

    _dispatch: tuple[tuple[str, Callable[[Any, str, bytes], Any]], ...] = (
        ("qSupported", _q_supported),
        ("QStartNoAckMode", _no_ack),
        ("qXfer:", _q_xfer),
        ("qfThreadInfo", _q_thread_info),
        ("qsThreadInfo", lambda _self, _a, _r: "l"),
        ("qThreadExtraInfo", _q_thread_extra),
        ("qC", _q_current),
        ("qAttached", _attached),
        ("qSymbol", _ok),
        ("vMustReplyEmpty", _empty),
        ("vCont?", _v_cont_query),
        ("vCont", _v_cont),
        ("vKill", _kill),
        ("vFile:", _v_file),
        ("?", _stop_reason),
        ("H", _set_thread),
        ("T", _thread_alive),
        ("g", _read_registers),
        ("G", _write_registers),
        ("p", _read_register),
        ("P", _write_register),
        ("m", _m),
        ("M", _M),
        ("x", _x),
        ("X", _X),
        ("Z", _insert),
        ("z", _remove),
        ("c", _continue),
        ("C", _continue_signal),
        ("s", _step),
        ("S", _step_signal),
        ("D", _detach),
        ("k", _kill),
    )


class _Error(Exception):
    """A request that fails with a specific `Exx` code (errno-style, in hex)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
