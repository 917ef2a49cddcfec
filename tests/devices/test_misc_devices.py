"""HPET main counter, block device, simulated IIO accelerometer."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.clock import VirtualClock
from emulator.devices import iio_accel as iio
from emulator.devices.blockdev import REQUEST_NS, SECTOR_SIZE, BlockDevice, BlockDeviceError
from emulator.devices.hpet import GCAP_ID, GEN_CONF, MAIN_COUNTER, Hpet
from emulator.devices.iio_accel import IioAccelerometer

from .helpers import FakeCounter, advance, step

# ---------------------------------------------------------------- HPET


def test_hpet_capabilities() -> None:
    hpet = Hpet(VirtualClock())
    gcap = hpet.read(GCAP_ID, 8)
    assert gcap == 0x000F_4240_8086_A201
    assert (hpet.read(GCAP_ID, 4), hpet.read(GCAP_ID + 4, 4)) == (0x8086_A201, 0x000F_4240)
    assert hpet.read(GCAP_ID + 2, 4) == 0  # misaligned: reads as zero
    assert gcap >> 32 == 1_000_000  # femtoseconds per tick: 1 ns
    assert gcap & 0xFF == 1  # revision
    assert gcap >> 13 & 1 == 1  # 64-bit counter


def test_hpet_counter_is_zero_until_enabled_then_follows_the_clock() -> None:
    clock = VirtualClock()
    hpet = Hpet(clock)
    clock.idle_until(5000)
    assert hpet.read(GEN_CONF) == 0
    assert hpet.read(MAIN_COUNTER) == 0
    hpet.write(GEN_CONF, 1)
    assert hpet.read(GEN_CONF) == 1
    first = hpet.read(MAIN_COUNTER)
    assert first == clock.now_ns() == 5000
    clock.idle_until(1_000_005_000)
    assert hpet.read(MAIN_COUNTER) - first == 1_000_000_000
    counter = FakeCounter(3)
    clock.begin_slice(counter)
    assert hpet.read(MAIN_COUNTER) == 1_000_005_024
    hpet.write(GEN_CONF, 1)  # enabling again does not disturb the count
    assert hpet.read(MAIN_COUNTER) == 1_000_005_024
    assert hpet.read(0x020) == 0  # unimplemented register


# ---------------------------------------------------------------- block device


@pytest.fixture
def disk(tmp_path: Path) -> BlockDevice:
    image = tmp_path / "disk.img"
    image.write_bytes(b"".join(bytes([i]) * SECTOR_SIZE for i in range(4)) + b"tail")
    return BlockDevice(image)


def test_block_device_reads_sectors(disk: BlockDevice) -> None:
    assert disk.sectors == 4  # the partial trailing sector is not addressable
    assert disk.read_sectors(1, 2) == b"\x01" * 512 + b"\x02" * 512
    assert disk.read_sectors(3, 1) == b"\x03" * 512
    assert disk.read_sectors(0, 4)[::512] == b"\x00\x01\x02\x03"
    assert disk.requests == 3
    assert disk.busy_ns == 3 * REQUEST_NS == 60_000


@pytest.mark.parametrize(("lba", "count"), [(-1, 1), (0, -1), (3, 2), (4, 1), (0, 5), (100, 0)])
def test_block_device_bounds(disk: BlockDevice, lba: int, count: int) -> None:
    with pytest.raises(BlockDeviceError):
        disk.read_sectors(lba, count)
    assert disk.requests == 0
    assert disk.busy_ns == 0


# ---------------------------------------------------------------- IIO accelerometer

PERIOD = 500_000_000


def test_iio_constant_registers() -> None:
    dev = IioAccelerometer(VirtualClock(), PERIOD)
    assert dev.read(iio.ID) == 0x11A0_0001
    assert dev.read(iio.SCALE) == 1_000_000
    assert dev.read(iio.OFFSET) == 0
    assert dev.read(0x40) == 0


def test_iio_idle_until_enabled() -> None:
    clock = VirtualClock()
    dev = IioAccelerometer(clock, PERIOD)
    assert clock.next_deadline() is None
    advance(clock, 5_000_000_000)
    assert dev.read(iio.COUNT) == 0
    assert dev.read(iio.STATUS) == 0
    assert dev.read(iio.CTRL) == 0


def test_iio_samples_once_per_period() -> None:
    clock = VirtualClock()
    clock.idle_until(1000)
    dev = IioAccelerometer(clock, PERIOD)
    dev.write(iio.CTRL, 1)
    assert dev.read(iio.CTRL) == 1
    values = []
    for k in range(10):
        deadline = step(clock)
        assert deadline == 1000 + (k + 1) * PERIOD
        assert dev.read(iio.STATUS) == 1
        assert dev.read(iio.TS_LO) | dev.read(iio.TS_HI) << 32 == deadline
        assert dev.read(iio.COUNT) == k + 1
        values.append(dev.read(iio.DATA))
        assert dev.read(iio.STATUS) == 0
    assert values == [0, 137, 274, 411, 548, 685, 822, 959, 96, 233]
    assert values == [(k * 137) % 1000 for k in range(10)]


def test_iio_unread_samples_keep_the_latest_value() -> None:
    clock = VirtualClock()
    dev = IioAccelerometer(clock, PERIOD)
    dev.write(iio.CTRL, 1)
    clock.idle_until(3 * PERIOD + 1)  # one jump over three sample deadlines
    assert clock.fire_expired() == 3
    assert dev.read(iio.STATUS) == 1
    assert dev.read(iio.TS_LO) == 3 * PERIOD  # stamped with the deadline, not "now"
    assert dev.read(iio.COUNT) == 3
    assert dev.read(iio.DATA) == 274
    assert dev.read(iio.DATA) == 274  # reading again returns the same sample
    assert dev.read(iio.STATUS) == 0


def test_iio_timestamp_high_word() -> None:
    clock = VirtualClock()
    dev = IioAccelerometer(clock, 5_000_000_000)
    dev.write(iio.CTRL, 1)
    step(clock)
    assert dev.read(iio.TS_HI) == 1
    assert dev.read(iio.TS_LO) == 705_032_704


def test_iio_disable_stops_and_enable_restarts_from_now() -> None:
    clock = VirtualClock()
    dev = IioAccelerometer(clock, PERIOD)
    dev.write(iio.CTRL, 1)
    clock.idle_until(100)
    dev.write(iio.CTRL, 1)  # already enabled: the schedule is kept
    assert clock.next_deadline() == PERIOD
    step(clock)
    dev.write(iio.CTRL, 0)
    assert dev.read(iio.CTRL) == 0
    assert clock.next_deadline() is None
    advance(clock, 10 * PERIOD)
    assert dev.read(iio.COUNT) == 1
    dev.write(iio.CTRL, 1)
    assert step(clock) == 11 * PERIOD
    assert dev.read(iio.COUNT) == 2
    assert dev.read(iio.DATA) == 137
