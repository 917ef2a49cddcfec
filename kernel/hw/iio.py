"""The simulated IIO accelerometer's registers (32-bit).

0x00 ID, 0x04 CTRL (bit 0 enable), 0x08 STATUS (bit 0 data ready, cleared by reading
DATA), 0x0C DATA (i32 sample), 0x10 SCALE, 0x14 OFFSET (i32), 0x18 TS_LO / 0x1C TS_HI
(ns of the sample), 0x20 COUNT (samples taken).
"""

ID, CTRL, STATUS, DATA, SCALE, OFFSET, TS_LO, TS_HI, COUNT = range(0, 0x24, 4)
SIZE = 0x100

DEVICE_ID = 0x11A0_0001
CTRL_ENABLE = 1
STATUS_READY = 1
