"""Where gdb connects: a TCP port or a Unix socket, one client at a time.

`--gdb tcp::1234` listens on every interface like QEMU's `-s`; `tcp:HOST:PORT` on
one address; `unix:PATH` on a socket file (removed again at exit). Sockets are
non-blocking while the guest runs (the run loop polls for Ctrl-C) and blocking while
gdb holds the machine.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
from pathlib import Path

DEFAULT_PORT = 1234


class GdbSpecError(ValueError):
    """A `--gdb` argument that is not tcp:[HOST]:PORT or unix:PATH."""


def parse_spec(spec: str) -> tuple[str, str]:
    """('tcp', 'HOST:PORT') (HOST empty: every interface) or ('unix', PATH)."""
    if spec.startswith("unix:") and len(spec) > 5:
        return "unix", spec[5:]
    text = spec.removeprefix("tcp:")
    host, sep, port_text = text.rpartition(":")
    if not sep and text.isdigit():
        host, port_text = "", text
    elif not sep:
        raise GdbSpecError(f"bad --gdb {spec!r}: use tcp::PORT, tcp:HOST:PORT or unix:PATH")
    try:
        port = int(port_text)
    except ValueError:
        raise GdbSpecError(f"bad --gdb {spec!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise GdbSpecError(f"bad --gdb {spec!r}: port {port} out of range")
    return "tcp", f"{host.strip('[]')}:{port}"


class Listener:
    """The server socket; `accept` gives at most one `Connection` at a time."""

    def __init__(self, spec: str) -> None:
        kind, where = parse_spec(spec)
        self.spec = spec
        self._unix_path: Path | None = None
        try:
            if kind == "unix":
                path = Path(str(where))
                with contextlib.suppress(FileNotFoundError):
                    if path.is_socket():
                        path.unlink()
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.bind(str(path))
                self._unix_path = path
            else:
                host, _, port = str(where).rpartition(":")
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                self.sock = socket.socket(family, socket.SOCK_STREAM)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.bind((host or "0.0.0.0", int(port)))
            self.sock.listen(1)
        except OSError as err:
            raise GdbSpecError(f"cannot listen for gdb on {spec}: {err.strerror}") from None

    @property
    def address(self) -> str:
        """What to give gdb's `target remote` (the real port when 0 was asked for)."""
        if self._unix_path is not None:
            return str(self._unix_path)
        host, port = self.sock.getsockname()[:2]
        return f"{'localhost' if host in ('0.0.0.0', '::') else host}:{port}"

    def accept(self, block: bool) -> Connection | None:
        if not block and not select.select([self.sock], [], [], 0)[0]:
            return None
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return None
        return Connection(conn)

    def close(self) -> None:
        self.sock.close()
        if self._unix_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._unix_path)


class Connection:
    """One connected client; every method turns socket errors into `closed`."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def recv(self, block: bool) -> bytes:
        """Bytes available now (b'' if none); blocks for some when `block`."""
        if self.closed:
            return b""
        if not block and not select.select([self.sock], [], [], 0)[0]:
            return b""
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.close()
        return data

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.sock.sendall(data)
        except OSError:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()
