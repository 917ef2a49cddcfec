"""`--monitor stdio|unix:PATH|tcp:HOST:PORT`: where monitor commands come from.

The machine calls `poll()` between CPU slices. It looks for input at most every
`POLL_INTERVAL_S` of host time (a select() per slice would cost the guest speed),
runs complete lines, and while the guest is stopped it waits here, so guest time
stays frozen. Nothing the monitor does writes to the guest console.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any

from emulator.monitor.commands import Control, human, json_request

BANNER = "axiom-virt monitor - type 'help' for more information\n"
PROMPT = "(axiom) "
POLL_INTERVAL_S = 0.02
MAX_LINE = 1 << 16


class MonitorError(Exception):
    """A bad --monitor spec or a socket that cannot be opened."""


class _Channel:
    """One connected client (or stdin/stdout)."""

    def __init__(self, fd: int, send: Any, closer: Any = None) -> None:
        self.fd = fd
        self._send = send
        self._closer = closer
        self.buffer = b""

    def send(self, text: str) -> bool:
        try:
            self._send(text.encode())
            return True
        except OSError:
            return False

    def close(self) -> None:
        if self._closer is not None:
            try:
                self._closer()
            except OSError:
                pass


class Monitor:
    def __init__(self, machine: Any, spec: str) -> None:
        self.machine = machine
        self.control = Control(machine)
        self._listener: socket.socket | None = None
        self._unix_path: Path | None = None
        self._channels: list[_Channel] = []
        self._next_poll = 0.0
        self._open(spec)
        machine.between_slices = self.poll

    # ------------------------------------------------------------------ setup

    def _open(self, spec: str) -> None:
        if spec == "stdio":
            out = sys.stdout

            def send(data: bytes) -> None:
                out.write(data.decode())
                out.flush()

            channel = _Channel(sys.stdin.fileno(), send)
            self._channels.append(channel)
            channel.send(BANNER + PROMPT)
        elif spec.startswith("unix:") and len(spec) > 5:
            path = Path(spec[5:])
            if path.exists() and path.is_socket():
                path.unlink()  # a stale socket from an earlier run
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(str(path))
            except OSError as err:
                sock.close()
                raise MonitorError(f"cannot listen on {path}: {err.strerror}") from None
            self._unix_path = path
            self._listen(sock)
        elif spec.startswith("tcp:") and spec.count(":") == 2:
            _, host, port = spec.split(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host or "127.0.0.1", int(port)))
            except (OSError, ValueError) as err:
                sock.close()
                raise MonitorError(f"cannot listen on {host}:{port}: {err}") from None
            self._listen(sock)
        else:
            raise MonitorError(f"bad --monitor {spec!r}: use stdio, unix:PATH or tcp:HOST:PORT")

    def _listen(self, sock: socket.socket) -> None:
        sock.listen(8)
        sock.setblocking(False)
        self._listener = sock

    @property
    def stopped(self) -> bool:
        return self.control.stopped

    # ------------------------------------------------------------------ serving

    def poll(self) -> None:
        """Between slices: handle pending input; while stopped, wait for more."""
        now = time.monotonic()
        if now < self._next_poll and not self.control.stopped:
            return
        self._next_poll = now + POLL_INTERVAL_S
        self.serve(0.0)
        while self.control.stopped and not self.machine.quit_requested:
            self.serve(0.1)

    def serve(self, timeout: float) -> None:
        """Wait up to `timeout` host seconds for input and handle what arrived."""
        fds: list[Any] = [c.fd for c in self._channels]
        if self._listener is not None:
            fds.append(self._listener)
        if not fds:
            if timeout:
                time.sleep(timeout)
            return
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except (OSError, ValueError):
            return
        for item in ready:
            if item is self._listener:
                self._accept()
            else:
                channel = next((c for c in self._channels if c.fd == item), None)
                if channel is not None:
                    self._read(channel)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        conn.setblocking(True)
        channel = _Channel(conn.fileno(), conn.sendall, conn.close)
        channel.conn = conn  # type: ignore[attr-defined]  # keeps the socket alive
        self._channels.append(channel)
        channel.send(BANNER + PROMPT)

    def _read(self, channel: _Channel) -> None:
        try:
            data = os.read(channel.fd, 4096)
        except OSError:
            data = b""
        if not data:
            self._drop(channel)
            return
        channel.buffer += data
        while b"\n" in channel.buffer:
            raw, channel.buffer = channel.buffer.split(b"\n", 1)
            self._line(channel, raw.decode(errors="replace").strip())
        if len(channel.buffer) > MAX_LINE:
            channel.buffer = b""
            channel.send("error: line too long\n" + PROMPT)

    def _line(self, channel: _Channel, line: str) -> None:
        if line.startswith("{"):
            ok = channel.send(json_request(self.control, line) + "\n")
        else:
            ok = channel.send(human(self.control, line) + PROMPT)
        if not ok:
            self._drop(channel)

    def _drop(self, channel: _Channel) -> None:
        if channel in self._channels:
            self._channels.remove(channel)
        if channel._closer is not None:
            channel.close()

    def close(self) -> None:
        for channel in list(self._channels):
            self._drop(channel)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._unix_path is not None:
            try:
                self._unix_path.unlink()
            except OSError:
                pass
            self._unix_path = None
        if self.machine.between_slices == self.poll:
            self.machine.between_slices = None
