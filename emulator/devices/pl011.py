"""ARM PL011 UART (the console of the `virt` and `rpi5` boards).

The registers a polled driver uses (map: `kernel.hw.pl011`, shared with the driver):
DR, FR (TXFF, RXFE, TXFE), IBRD/FBRD, LCR_H, CR, IMSC, ICR and the PrimeCell ids.
Transmission is instantaneous, so FR.TXFF never reads 1. Line-ending translation
(`\\n` -> `\\r\\n`) is the driver's job, as in axiomOS, not the device's.
"""

from __future__ import annotations

from emulator.chardev import CharBackend
from kernel.hw import pl011 as regs
from kernel.hw.pl011 import (
    CR,
    DR,
    FBRD,
    FR,
    FR_RXFE,
    FR_TXFE,
    IBRD,
    ICR,
    IMSC,
    LCR_H,
    MIS,
    RIS,
    RSR,
)

_PERIPH_ID = {0xFE0: 0x11, 0xFE4: 0x10, 0xFE8: 0x14, 0xFEC: 0x00}
_PCELL_ID = {0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}


class Pl011:
    """Memory-mapped PL011 with a 4 KiB register window."""

    SIZE = regs.SIZE

    def __init__(self, backend: CharBackend) -> None:
        self.backend = backend
        self.reset()

    def reset(self) -> None:
        self.ibrd = 0
        self.fbrd = 0
        self.lcr_h = 0
        self.cr = 0x300  # TXE | RXE
        self.imsc = 0
        self.ris = 0
        self.bytes_sent = 0

    def read(self, offset: int, size: int = 4) -> int:
        """Registers are 32 bits; a narrower aligned read returns their low bytes."""
        if offset % 4:
            return 0
        return self._register(offset) & ((1 << 8 * min(size, 4)) - 1)

    def _register(self, offset: int) -> int:
        if offset == DR:
            return 0
        if offset == RSR:
            return 0
        if offset == FR:
            return FR_RXFE | FR_TXFE
        if offset == IBRD:
            return self.ibrd
        if offset == FBRD:
            return self.fbrd
        if offset == LCR_H:
            return self.lcr_h
        if offset == CR:
            return self.cr
        if offset == IMSC:
            return self.imsc
        if offset == RIS:
            return self.ris
        if offset == MIS:
            return self.ris & self.imsc
        if offset in _PERIPH_ID:
            return _PERIPH_ID[offset]
        if offset in _PCELL_ID:
            return _PCELL_ID[offset]
        return 0

    def write_block(self, offset: int, data: bytes, size: int = 4) -> None:
        """Writes of each byte of ``data`` to one register: DR sends them as one
        backend write (each byte counted in ``bytes_sent``, as single writes are)."""
        if offset == DR:
            self.backend.write(bytes(data))
            self.bytes_sent += len(data)
            return
        for byte in data:
            self.write(offset, byte, size)

    def write(self, offset: int, value: int, size: int = 4) -> None:
        if offset % 4:
            return  # unaligned: the APB bus ignores it
        if offset == DR:
            self.backend.write(bytes((value & 0xFF,)))
            self.bytes_sent += 1
        elif offset == IBRD:
            self.ibrd = value & 0xFFFF
        elif offset == FBRD:
            self.fbrd = value & 0x3F
        elif offset == LCR_H:
            self.lcr_h = value & 0xFF
        elif offset == CR:
            self.cr = value & 0xFFFF
        elif offset == IMSC:
            self.imsc = value & 0x7FF
        elif offset == ICR:
            self.ris &= ~value
