"""ARM PL011 UART registers (32-bit, in a 4 KiB window)."""

DR = 0x000
RSR = 0x004
FR = 0x018
IBRD = 0x024
FBRD = 0x028
LCR_H = 0x02C
CR = 0x030
IMSC = 0x038
RIS = 0x03C
MIS = 0x040
ICR = 0x044
SIZE = 0x1000

FR_RXFE = 1 << 4
FR_TXFF = 1 << 5
FR_TXFE = 1 << 7
