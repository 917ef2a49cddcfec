"""Driver for the simulated IIO accelerometer: enable it, poll for samples.

The register map is `kernel.hw.iio`, shared with the device model; the base is the
board table's `iio` entry."""

from __future__ import annotations

import dataclasses

from kernel.abi import IIO_PAYLOAD
from kernel.board import RegisterBus
from kernel.hw.iio import (
    CTRL,
    CTRL_ENABLE,
    DATA,
    DEVICE_ID,
    ID,
    OFFSET,
    SCALE,
    STATUS,
    STATUS_READY,
    TS_HI,
    TS_LO,
)


@dataclasses.dataclass(frozen=True)
class IioSample:
    timestamp: int
    device_id: int
    channel: int
    value: int
    scale: int
    offset: int

    def payload(self) -> bytes:
        """The 32-byte IIO hook payload of spec section 7."""
        return IIO_PAYLOAD.pack(
            self.timestamp, self.device_id, self.channel, self.value, self.scale, self.offset
        )


class IioAccelDriver:
    """Device 0, channel 0 (AccelX)."""

    def __init__(self, mmio: RegisterBus, base: int) -> None:
        self.mmio = mmio
        self.base = base
        self.present = mmio.read(base + ID) == DEVICE_ID
        if self.present:
            mmio.write(base + CTRL, CTRL_ENABLE)

    def poll(self) -> IioSample | None:
        """The new sample, if the device has one."""
        if not self.present or not self.mmio.read(self.base + STATUS) & STATUS_READY:
            return None
        read = self.mmio.read
        ts = read(self.base + TS_LO) | read(self.base + TS_HI) << 32
        raw = read(self.base + DATA)
        value = raw - (1 << 32) if raw & 0x8000_0000 else raw
        offset = read(self.base + OFFSET)
        offset = offset - (1 << 32) if offset & 0x8000_0000 else offset
        return IioSample(ts, 0, 0, value, read(self.base + SCALE), offset)
