"""The byte-addressed read interface file systems use, and an in-memory implementation.

The ext2 reader only needs `read(offset, size) -> bytes`; the kernel adapts the block
device model to it, and tests (or tools) wrap plain bytes with `BytesDevice`.
"""

from __future__ import annotations

from typing import Protocol


class BlockDevice(Protocol):
    """Anything that can return `size` bytes starting at byte `offset`.

    A read past the end returns fewer bytes (possibly none); readers treat that as a
    truncated medium.
    """

    def read(self, offset: int, size: int) -> bytes: ...


class BytesDevice:
    """A read-only device over a bytes-like object (an image loaded into memory)."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = memoryview(data).toreadonly()

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0:
            raise ValueError(f"bad device read: offset={offset} size={size}")
        return bytes(self._data[offset : offset + size])
