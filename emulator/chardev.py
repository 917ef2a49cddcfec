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
    """The host terminal (stdout), flushed per write so the console is live."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer

    def write(self, data: bytes) -> None:
        self._stream.write(data)
        self._stream.flush()


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
