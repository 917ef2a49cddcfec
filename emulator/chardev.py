"""Character backends: where a UART's bytes go. Devices never print directly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO


class CharBackend:
    """Receives the bytes a serial device transmits."""

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and release resources."""


class StdioBackend(CharBackend):
    """The host terminal (stdout), flushed per write so the console is live.

    With `color=False` SGR colour sequences (`ESC [ ... m`) are removed on the way to
    the terminal only; other backends (`file:`) always get the kernel's exact bytes."""

    def __init__(self, stream: BinaryIO | None = None, color: bool = True) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._strip = None if color else SgrStripper()

    def write(self, data: bytes) -> None:
        if self._strip is not None:
            data = self._strip.feed(data)
        self._stream.write(data)
        self._stream.flush()

    def close(self) -> None:
        if self._strip is not None and self._strip.pending:
            self._stream.write(self._strip.pending)  # an escape cut off by the end
            self._stream.flush()


class SgrStripper:
    """Removes `ESC [ <digits and ;> m` sequences from a byte stream, also when a
    sequence is split across writes; any other escape passes through unchanged."""

    MAX_PENDING = 32

    def __init__(self) -> None:
        self._pending = b""

    @property
    def pending(self) -> bytes:
        return self._pending

    def feed(self, data: bytes) -> bytes:
        data = self._pending + data
        self._pending = b""
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            j = data.find(b"\x1b", i)
            if j < 0:
                out += data[i:]
                break
            out += data[i:j]
            k = j + 1
            if k < n and data[k] != 0x5B:  # not CSI
                out.append(0x1B)
                i = k
                continue
            k += 1
            while k < n and (0x30 <= data[k] <= 0x39 or data[k] == 0x3B):
                k += 1
            if k >= n:
                if n - j <= self.MAX_PENDING:
                    self._pending = data[j:]  # incomplete: wait for the rest
                else:
                    out += data[j:]
                break
            if data[k] == 0x6D:  # 'm': a colour sequence, dropped
                i = k + 1
            else:
                out += data[j : k + 1]
                i = k + 1
        return bytes(out)


def color_enabled(mode: str, stream: object, environ: dict[str, str]) -> bool:
    """--color auto|always|never; auto = a terminal and no NO_COLOR (no-color.org)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class FileBackend(CharBackend):
    """A log file on the host, written through at every line end (as QEMU's file
    chardev): someone tailing it sees each line as it is printed, and a killed run
    loses at most a partial last line. Bytes are buffered within a line, so a run
    printing character by character costs one write per line, not per byte."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 -- lives as long as the machine

    def write(self, data: bytes) -> None:
        end = data.rfind(b"\n") + 1
        if end:
            self._file.write(data[:end])
            self._file.flush()
            data = data[end:]
        if data:
            self._file.write(data)

    def close(self) -> None:
        self._file.close()


class NullBackend(CharBackend):
    """Discards output (`--serial none`)."""

    def write(self, data: bytes) -> None:
        pass


class MemoryBackend(CharBackend):
    """Keeps everything in memory; the test API reads the console from here."""

    def __init__(self) -> None:
        self._chunks = bytearray()

    def write(self, data: bytes) -> None:
        self._chunks += data

    @property
    def data(self) -> bytes:
        return bytes(self._chunks)

    def data_from(self, offset: int) -> bytes:
        """The bytes written since `offset` (readers that keep their own position)."""
        return bytes(self._chunks[offset:])

    def __len__(self) -> int:
        return len(self._chunks)


class MuxBackend(CharBackend):
    """Sends the same bytes to several backends (e.g. terminal and a file)."""

    def __init__(self, backends: list[CharBackend]) -> None:
        self.backends = backends

    def write(self, data: bytes) -> None:
        for backend in self.backends:
            backend.write(data)

    def close(self) -> None:
        for backend in self.backends:
            backend.close()
