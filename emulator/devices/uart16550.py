"""16550A UART (COM1 on the `pc` board), the registers a polled driver uses.

Registers at base + 0..7 (map: `kernel.hw.uart16550`, shared with the driver):
RBR/THR (DLL when LCR.DLAB), IER (DLM when DLAB), IIR/FCR, LCR, MCR, LSR, MSR, SCR.
Transmission is instantaneous: LSR.THRE and TEMT always read 1, so a driver that
waits for THRE before each byte never spins.
"""

from __future__ import annotations

from emulator.chardev import CharBackend
from kernel.hw import uart16550 as regs
from kernel.hw.uart16550 import (
    IER,
    IIR_FCR,
    IIR_FIFO_ENABLED,
    IIR_NO_INTERRUPT,
    LCR,
    LCR_DLAB,
    LSR,
    LSR_TEMT,
    LSR_THRE,
    MCR,
    MSR,
    RBR_THR,
    SCR,
)


class Uart16550:
    """Port-mapped 16550 with an 8-byte register window."""

    SIZE = regs.SIZE

    def __init__(self, backend: CharBackend) -> None:
        self.backend = backend
        self.reset()

    def reset(self) -> None:
        self.ier = 0
        self.lcr = 0
        self.mcr = 0
        self.scr = 0
        self.fcr = 0
        self.divisor = 12  # 9600 baud after reset
        self.bytes_sent = 0

    def read(self, offset: int, size: int = 1) -> int:
        """Byte registers; a wider port read reads consecutive ports (as `inw` does)."""
        if size != 1:
            return sum(
                self.read(offset + k) << (8 * k) for k in range(size) if offset + k < self.SIZE
            )
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            return self.divisor & 0xFF if dlab else 0  # no input source: RBR reads 0
        if offset == IER:
            return (self.divisor >> 8) & 0xFF if dlab else self.ier
        if offset == IIR_FCR:
            return IIR_NO_INTERRUPT | (IIR_FIFO_ENABLED if self.fcr & 1 else 0)
        if offset == LCR:
            return self.lcr
        if offset == MCR:
            return self.mcr
        if offset == LSR:
            return LSR_THRE | LSR_TEMT
        if offset == MSR:
            return 0xB0  # DCD, DSR, CTS asserted
        if offset == SCR:
            return self.scr
        raise ValueError(f"16550: register offset {offset} out of range")

    def write_block(self, offset: int, data: bytes, size: int = 1) -> None:
        """Byte writes of ``data`` to one port: THR sends them as one backend write
        (counted byte by byte in ``bytes_sent``, exactly as single writes would)."""
        if offset == RBR_THR and size == 1 and not self.lcr & LCR_DLAB:
            self.backend.write(bytes(data))
            self.bytes_sent += len(data)
            return
        for byte in data:
            self.write(offset, byte, size)

    def write(self, offset: int, value: int, size: int = 1) -> None:
        if size != 1:
            for k in range(size):
                if offset + k < self.SIZE:
                    self.write(offset + k, value >> (8 * k))
            return
        value &= 0xFF
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            if dlab:
                self.divisor = (self.divisor & 0xFF00) | value
            else:
                self.backend.write(bytes((value,)))
                self.bytes_sent += 1
        elif offset == IER:
            if dlab:
                self.divisor = (self.divisor & 0x00FF) | (value << 8)
            else:
                self.ier = value & 0x0F
        elif offset == IIR_FCR:
            self.fcr = value
        elif offset == LCR:
            self.lcr = value
        elif offset == MCR:
            self.mcr = value & 0x1F
        elif offset == SCR:
            self.scr = value
        elif offset in (LSR, MSR):
            pass  # read-only on real hardware; writes are ignored
        else:
            raise ValueError(f"16550: register offset {offset} out of range")
