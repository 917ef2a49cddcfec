"""16550A UART registers (byte ports at base + 0..7)."""

RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR = range(8)  # DLL/DLM at 0/1 while LCR.DLAB
SIZE = 8  # the register window, in ports

LSR_DR = 0x01
LSR_THRE = 0x20
LSR_TEMT = 0x40
LCR_DLAB = 0x80
LCR_8N1 = 0x03
IIR_NO_INTERRUPT = 0x01
IIR_FIFO_ENABLED = 0xC0
FCR_ENABLE_CLEAR_14 = 0xC7  # FIFO on, both cleared, 14-byte receive threshold
MCR_DTR_RTS_OUT2 = 0x0B
