"""Polled console drivers for the two UARTs, the way axiomOS drives them.

The port / base address is the board table's; the register offsets are
`kernel.hw.uart16550` and `kernel.hw.pl011`, shared with the device models."""

from __future__ import annotations

from kernel.board import RegisterBus
from kernel.hw.pl011 import DR, FR, FR_TXFF
from kernel.hw.uart16550 import (
    FCR_ENABLE_CLEAR_14,
    IER,
    IIR_FCR,
    LCR,
    LCR_8N1,
    LCR_DLAB,
    LSR,
    LSR_THRE,
    MCR,
    MCR_DTR_RTS_OUT2,
    RBR_THR,
)

__all__ = ["Pl011Console", "RegisterBus", "Uart16550Console"]


class Uart16550Console:
    """COM1: wait for LSR.THRE, then write THR (8-bit port accesses).

    A buffer goes to THR as one block of byte writes after one THRE poll: the
    modelled UART transmits instantly (THRE never drops), so polling before every
    byte would only cost time; the device still sees, and counts, every byte."""

    def __init__(self, io: RegisterBus, port: int) -> None:
        self._io = io
        self._port = port
        io.write(port + IER, 0x00, 1)  # no interrupts
        io.write(port + LCR, LCR_DLAB, 1)
        io.write(port + RBR_THR, 0x01, 1)  # divisor 1 (DLL): 115200 baud
        io.write(port + IER, 0x00, 1)  # DLM
        io.write(port + LCR, LCR_8N1, 1)  # DLAB off
        io.write(port + IIR_FCR, FCR_ENABLE_CLEAR_14, 1)
        io.write(port + MCR, MCR_DTR_RTS_OUT2, 1)

    def write(self, data: bytes) -> None:
        if not data:
            return
        io, port = self._io, self._port
        while not io.read(port + LSR, 1) & LSR_THRE:
            pass
        io.write_block(port + RBR_THR, data, 1)


class Pl011Console:
    """PL011: wait while FR.TXFF, write DR; `\\n` goes out as `\\r\\n`.

    A buffer goes to DR as one block after one FR poll (see `Uart16550Console`)."""

    def __init__(self, mmio: RegisterBus, base: int) -> None:
        self._mmio = mmio
        self._dr = base + DR
        self._fr = base + FR

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
