"""PL011 and 16550: transmit path, status registers, register round-trips."""

from __future__ import annotations

import pytest

from emulator.chardev import MemoryBackend
from emulator.devices import pl011
from emulator.devices import uart16550 as u
from emulator.devices.pl011 import Pl011
from emulator.devices.uart16550 import Uart16550

# ---------------------------------------------------------------- PL011


def test_pl011_flags_never_report_tx_full() -> None:
    backend = MemoryBackend()
    uart = Pl011(backend)
    assert uart.read(pl011.FR) == 0x90  # TXFE | RXFE
    for i in range(100):
        uart.write(pl011.DR, i)
        assert uart.read(pl011.FR) == 0x90
    assert uart.read(pl011.FR) & (1 << 5) == 0


def test_pl011_dr_writes_reach_the_backend_byte_for_byte() -> None:
    backend = MemoryBackend()
    uart = Pl011(backend)
    for byte in range(256):
        uart.write(pl011.DR, byte)
    uart.write(pl011.DR, 0x141)  # only the data byte is sent
    uart.write(pl011.DR, ord("\n"))  # no line-ending translation in the device
    assert backend.data == bytes(range(256)) + b"A\n"
    assert uart.bytes_sent == 258
    assert uart.read(pl011.DR) == 0
    assert uart.read(pl011.RSR) == 0


def test_pl011_other_registers_do_not_transmit() -> None:
    backend = MemoryBackend()
    uart = Pl011(backend)
    for offset in (pl011.IBRD, pl011.FBRD, pl011.LCR_H, pl011.CR, pl011.IMSC, pl011.ICR, 0x004):
        uart.write(offset, 0x41)
    assert backend.data == b""
    assert uart.bytes_sent == 0


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        (0xFE0, 0x11),
        (0xFE4, 0x10),
        (0xFE8, 0x14),
        (0xFEC, 0x00),
        (0xFF0, 0x0D),
        (0xFF4, 0xF0),
        (0xFF8, 0x05),
        (0xFFC, 0xB1),
    ],
)
def test_pl011_primecell_ids(offset: int, value: int) -> None:
    assert Pl011(MemoryBackend()).read(offset) == value


def test_pl011_register_round_trips_and_masks() -> None:
    uart = Pl011(MemoryBackend())
    assert uart.read(pl011.CR) == 0x300  # reset: TXE | RXE
    uart.write(pl011.IBRD, 0x1_2345)
    uart.write(pl011.FBRD, 0xFF)
    uart.write(pl011.LCR_H, 0x170)
    uart.write(pl011.CR, 0x1_0301)
    uart.write(pl011.IMSC, 0xFFFF)
    assert uart.read(pl011.IBRD) == 0x2345
    assert uart.read(pl011.FBRD) == 0x3F
    assert uart.read(pl011.LCR_H) == 0x70
    assert uart.read(pl011.CR) == 0x0301
    assert uart.read(pl011.IMSC) == 0x7FF
    uart.reset()
    assert [uart.read(o) for o in (pl011.IBRD, pl011.FBRD, pl011.LCR_H, pl011.CR)] == [
        0,
        0,
        0,
        0x300,
    ]


def test_pl011_icr_clears_raw_status() -> None:
    uart = Pl011(MemoryBackend())
    uart.ris = 0x7F0  # as if interrupts had been raised
    uart.write(pl011.IMSC, 0x050)
    assert uart.read(pl011.MIS) == 0x050
    uart.write(pl011.ICR, 0x030)
    assert uart.read(pl011.RIS) == 0x7C0
    assert uart.read(pl011.MIS) == 0x040
    uart.write(pl011.ICR, 0x7FF)
    assert uart.read(pl011.RIS) == 0
    assert uart.read(pl011.MIS) == 0


# ---------------------------------------------------------------- 16550


def test_16550_lsr_always_ready() -> None:
    uart = Uart16550(MemoryBackend())
    assert uart.read(u.LSR) == 0x60
    for _ in range(20):
        uart.write(u.RBR_THR, 0x55)
    assert uart.read(u.LSR) == u.LSR_THRE | u.LSR_TEMT == 0x60
    uart.write(u.LSR, 0)  # read-only: ignored
    uart.write(u.MSR, 0)
    assert uart.read(u.LSR) == 0x60
    assert uart.read(u.MSR) == 0xB0


def test_16550_thr_writes_reach_the_backend() -> None:
    backend = MemoryBackend()
    uart = Uart16550(backend)
    for byte in b"hello\r\n\x00\xff":
        uart.write(u.RBR_THR, byte)
    uart.write(u.RBR_THR, 0x142)
    assert backend.data == b"hello\r\n\x00\xffB"
    assert uart.bytes_sent == 10
    assert uart.read(u.RBR_THR) == 0  # no input source


def test_16550_dlab_selects_the_divisor_latch() -> None:
    backend = MemoryBackend()
    uart = Uart16550(backend)
    uart.write(u.IER, 0x05)
    uart.write(u.LCR, 0x83)  # DLAB | 8 data bits
    assert uart.read(u.LCR) == 0x83
    assert uart.read(u.RBR_THR) == 12  # reset divisor: 9600 baud
    assert uart.read(u.IER) == 0
    uart.write(u.RBR_THR, 0x01)  # DLL
    uart.write(u.IER, 0x02)  # DLM
    assert backend.data == b""  # divisor writes do not transmit
    assert uart.bytes_sent == 0
    assert uart.divisor == 0x0201
    assert uart.read(u.RBR_THR) == 0x01
    assert uart.read(u.IER) == 0x02
    uart.write(u.LCR, 0x03)
    assert uart.read(u.IER) == 0x05  # IER untouched by the DLM write
    assert uart.read(u.RBR_THR) == 0
    uart.write(u.RBR_THR, ord("x"))
    assert backend.data == b"x"
    assert uart.divisor == 0x0201


def test_16550_ier_and_mcr_masks() -> None:
    uart = Uart16550(MemoryBackend())
    uart.write(u.IER, 0xFF)
    assert uart.read(u.IER) == 0x0F
    assert uart.divisor == 12
    uart.write(u.MCR, 0xFF)
    assert uart.read(u.MCR) == 0x1F


def test_16550_iir_reports_fifo_after_fcr_bit_0() -> None:
    uart = Uart16550(MemoryBackend())
    assert uart.read(u.IIR_FCR) == 0x01
    uart.write(u.IIR_FCR, 0x07)  # enable + clear both FIFOs
    assert uart.read(u.IIR_FCR) == 0xC1
    uart.write(u.IIR_FCR, 0x06)
    assert uart.read(u.IIR_FCR) == 0x01


def test_16550_scratch_register() -> None:
    uart = Uart16550(MemoryBackend())
    assert uart.read(u.SCR) == 0
    uart.write(u.SCR, 0xA5)
    assert uart.read(u.SCR) == 0xA5
    uart.write(u.SCR, 0x15A)
    assert uart.read(u.SCR) == 0x5A


@pytest.mark.parametrize("offset", [8, 9, -1, 0x3F8])
def test_16550_bad_offsets_raise(offset: int) -> None:
    uart = Uart16550(MemoryBackend())
    with pytest.raises(ValueError, match="out of range"):
        uart.read(offset)
    with pytest.raises(ValueError, match="out of range"):
        uart.write(offset, 0)
