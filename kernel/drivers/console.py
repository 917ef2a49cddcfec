"""Polled console drivers for the two UARTs, the way axiomOS drives them."""

from __future__ import annotations

from typing import Protocol

COM1 = 0x3F8
LSR = 5
LSR_THRE = 0x20
PL011_BASE = 0x0900_0000
PL011_FR = 0x18
FR_TXFF = 1 << 5


class RegisterBus(Protocol):
    """Register access with an explicit width in bytes (port I/O here is `outb`)."""

    def read(self, address: int, size: int = 4) -> int: ...
    def write(self, address: int, value: int, size: int = 4) -> None: ...
    def write_block(self, address: int, data: bytes, size: int = 4) -> None:
        """``write(address, b, size)`` for every byte ``b`` of ``data``, in order."""
        ...


class Uart16550Console:
    """COM1: wait for LSR.THRE, then write THR (8-bit port accesses).

    A buffer goes to THR as one block of byte writes after one THRE poll: the
    modelled UART transmits instantly (THRE never drops), so polling before every
    byte would only cost time; the device still sees, and counts, every byte."""

    def __init__(self, io: RegisterBus) -> None:
        self._io = io
        io.write(COM1 + 1, 0x00, 1)  # IER: no interrupts
        io.write(COM1 + 3, 0x80, 1)  # LCR: DLAB on
        io.write(COM1 + 0, 0x01, 1)  # divisor 1: 115200 baud
        io.write(COM1 + 1, 0x00, 1)
        io.write(COM1 + 3, 0x03, 1)  # 8N1, DLAB off
        io.write(COM1 + 2, 0xC7, 1)  # FIFO on, cleared, 14-byte threshold
        io.write(COM1 + 4, 0x0B, 1)  # DTR, RTS, OUT2

    def write(self, data: bytes) -> None:
        if not data:
            return
        io = self._io
        while not io.read(COM1 + LSR, 1) & LSR_THRE:
            pass
        io.write_block(COM1, data, 1)


class Pl011Console:
    """PL011: wait while FR.TXFF, write DR; `\\n` goes out as `\\r\\n`.

    A buffer goes to DR as one block after one FR poll (see `Uart16550Console`)."""

    def __init__(self, mmio: RegisterBus, base: int = PL011_BASE) -> None:
        self._mmio = mmio
        self._dr = base
        self._fr = base + PL011_FR

    def write(self, data: bytes) -> None:
        if not data:
            return
        mmio = self._mmio
        while mmio.read(self._fr) & FR_TXFF:
            pass
        mmio.write_block(self._dr, data.replace(b"\n", b"\r\n"))

    def put(self, byte: int) -> None:
        """One byte, as the original's raw debug-marker writes and `putc` do."""
        mmio = self._mmio
        while mmio.read(self._fr) & FR_TXFF:
            pass
        mmio.write(self._dr, byte)
