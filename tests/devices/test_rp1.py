"""RP1 GPIO and PWM models, the rpi5 board map, the device-event channel, and the
kernel's RP1 drivers against the models."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from emulator import stimulus
from emulator.boards import MACHINES, Rpi5Board
from emulator.boards import rpi5 as board_map
from emulator.chardev import MemoryBackend
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.rp1_gpio import CTRL, EV_FALL, EV_RISE, LEVEL_BIT, STATUS, Rp1Gpio
from emulator.devices.rp1_pwm import CTL, DAT1, DAT2, RNG1, RNG2, STA, Rp1Pwm
from emulator.devlog import DeviceEventLog, open_device_log
from kernel.arch.rpi5 import Rpi5Platform
from kernel.drivers.rp1 import Rp1GpioDriver, Rp1PwmDriver

from .helpers import advance


def ctrl(pin: int) -> int:
    return pin * 8 + CTRL


def status(pin: int) -> int:
    return pin * 8 + STATUS


@pytest.fixture
def log() -> DeviceEventLog:
    return DeviceEventLog(lambda: 1234)


def test_gpio_output_override_drives_the_pin_and_reports_changes(log: DeviceEventLog) -> None:
    gpio = Rp1Gpio(log)
    assert gpio.read(status(18)) & LEVEL_BIT == 0 and gpio.driven(18) is None
    gpio.write(ctrl(18), 3 << 13)  # OUTOVER = drive high, as the driver's set_high
    assert gpio.read(status(18)) & LEVEL_BIT and gpio.level(18) == 1
    gpio.write(ctrl(18), 3 << 13)  # no change: no report
    gpio.write(ctrl(18), 2 << 13)  # drive low
    assert gpio.level(18) == 0
    gpio.set_input(18, 1)  # a driven pin ignores the outside level
    assert gpio.level(18) == 0
    assert [(e.time_ns, e.category, e.message) for e in log.events] == [
        (1234, "gpio", "gpio: pin 18 -> 1"),
        (1234, "gpio", "gpio: pin 18 -> 0"),
    ]


def test_gpio_edges_latch_only_when_enabled_and_clear_with_irqreset() -> None:
    lines: list[bool] = []
    gpio = Rp1Gpio(None, lines.append)
    gpio.set_input(22, 1)  # no interrupt enabled: nothing latched
    assert gpio.read(status(22)) == LEVEL_BIT and lines == []
    gpio.set_input(22, 0)
    gpio.write(ctrl(22), 1 << 21)  # IRQEN_RISING
    gpio.set_input(22, 1)
    assert gpio.read(status(22)) == LEVEL_BIT | EV_RISE and lines == [True]
    gpio.set_input(22, 0)  # falling not enabled
    assert gpio.read(status(22)) == EV_RISE
    gpio.write(ctrl(22), gpio.read(ctrl(22)) | 1 << 28)  # IRQRESET
    assert gpio.read(status(22)) == 0 and lines == [True, False]
    assert gpio.read(ctrl(22)) == 1 << 21  # IRQRESET reads back 0
    gpio.write(ctrl(22), 3 << 20)  # both edges
    gpio.set_input(22, 1)
    gpio.set_input(22, 0)
    assert gpio.read(status(22)) == EV_RISE | EV_FALL
    with pytest.raises(ValueError, match="GPIO pin 28 out of range"):
        gpio.set_input(28, 1)
    assert gpio.read(28 * 8) == 0  # beyond the 28 pins: reads 0, writes ignored
    gpio.write(28 * 8 + CTRL, 0xFFFF_FFFF)


def test_gpio_level_interrupt_follows_the_level() -> None:
    lines: list[bool] = []
    gpio = Rp1Gpio(None, lines.append)
    gpio.write(ctrl(5), 1 << 23)  # IRQEN_HIGH
    gpio.set_input(5, 1)
    gpio.set_input(5, 0)
    assert lines == [True, False]


def test_pwm_duty_is_data_over_range_and_changes_are_reported(log: DeviceEventLog) -> None:
    pwm = Rp1Pwm(0, log)
    assert pwm.read(RNG1) == 0x20 and pwm.duty_percent(1) == 0  # BCM2835 reset values
    pwm.write(DAT1, 16)
    assert pwm.duty_percent(1) == 50 and pwm.read(DAT1) == 16
    pwm.write(DAT1, 16)  # unchanged
    pwm.write(CTL, 0x81)  # PWEN1 | MSEN1
    pwm.write(RNG2, 1000)
    pwm.write(DAT2, 250)
    pwm.write(DAT1, 0)
    pwm.write(CTL, 0)
    assert [e.message for e in log.events] == [
        "pwm0.1: duty 50%",
        "pwm0.1: enabled",
        "pwm0.2: period 8000 ns",
        "pwm0.2: duty 25%",
        "pwm0.1: duty 0%",
        "pwm0.1: disabled",
    ]
    pwm.sta = 0x13
    pwm.write(STA, 0x03)  # write 1 to clear
    assert pwm.read(STA) == 0x10
    pwm.write(RNG1, 0)
    assert pwm.duty_percent(1) == 0  # a zero range is duty 0, not a division error


def test_kernel_drivers_use_the_registers_the_original_uses(log: DeviceEventLog) -> None:
    class Bus:
        def __init__(self) -> None:
            self.gpio, self.pwm = Rp1Gpio(log), Rp1Pwm(1, log)
            self.accesses: list[tuple[str, int]] = []

        def _dev(self, address: int) -> tuple[object, int]:
            if address >= 0x1000:
                return self.pwm, address - 0x1000
            return self.gpio, address

        def read(self, address: int, size: int | None = None) -> int:
            self.accesses.append(("r", address))
            dev, off = self._dev(address)
            return dev.read(off)  # type: ignore[attr-defined]

        def write(self, address: int, value: int, size: int | None = None) -> None:
            self.accesses.append(("w", address))
            dev, off = self._dev(address)
            dev.write(off, value)  # type: ignore[attr-defined]

        def write_block(self, address: int, data: bytes, size: int | None = None) -> None:
            for b in data:
                self.write(address, b, size)

    bus = Bus()
    gpio = Rp1GpioDriver(bus, 0)
    gpio.set_high(18)
    assert bus.accesses == [("r", 18 * 8 + 4), ("w", 18 * 8 + 4)]  # read-modify-write CTRL
    assert gpio.read(18) and bus.gpio.level(18) == 1
    gpio.configure_input(17)
    gpio.enable_interrupt(17, rising=True, falling=False)
    bus.gpio.set_input(17, 1)
    assert gpio.pending_events(17) == EV_RISE
    gpio.clear_interrupt(17)
    assert gpio.pending_events(17) == 0

    events: list[tuple[int, int, int, int, bool]] = []
    pwm = Rp1PwmDriver(bus, 0x1000, 1, lambda *e: events.append(e))
    pwm.init()
    pwm.set_frequency(2, 25_000)  # 125 MHz / 25 kHz = 5000 ticks = 40 us
    pwm.set_duty_cycle(2, 30)
    pwm.enable(2)
    pwm.disable(2)
    assert events == [
        (1, 2, 40_000, 0, True),
        (1, 2, 40_000, 12_000, True),
        (1, 2, 40_000, 12_000, True),
        (1, 2, 40_000, 12_000, False),
    ]
    assert bus.pwm.duty_percent(2) == 30 and bus.pwm.read(CTL) == 1 << 15  # MSEN2 stays


def _kernel_view(board: Rpi5Board) -> SimpleNamespace:
    """The addresses and INTIDs the kernel's rpi5 platform code ends up using."""
    p = Rpi5Platform(board)
    return SimpleNamespace(
        UART10=p.uart,
        GICD=p.gicd,
        GICC=p.gicc,
        RP1_GPIO=p.gpio_base,
        RP1_PWM=p.pwm_bases,
        GPIO_INTID=p.gpio_intid,
    )


def test_rpi5_board_map_matches_the_kernel_platform(tmp_path: Path) -> None:
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(4096))
    clock = VirtualClock()
    board = Rpi5Board(clock, MemoryBackend(), BlockDevice(image))
    platform_map = _kernel_view(board)
    assert MACHINES["rpi5"] is Rpi5Board and (board.name, board.arch) == ("rpi5", "aarch64")
    assert board_map.UART10_BASE == platform_map.UART10 == 0x10_7D00_1000
    assert (board_map.GICD_BASE, board_map.GICC_BASE) == (platform_map.GICD, platform_map.GICC)
    assert board_map.RP1_GPIO_BASE == platform_map.RP1_GPIO == 0x1F_000D_0000
    assert (board_map.RP1_PWM0_BASE, board_map.RP1_PWM1_BASE) == platform_map.RP1_PWM
    assert board_map.RP1_GPIO_INTID == platform_map.GPIO_INTID == 261
    assert board.sysreg_read("CNTFRQ_EL0") == 54_000_000
    # an RP1 read costs a PCIe round trip of guest time; a write is posted
    before = clock.now_ns()
    board.mmio.write(board_map.RP1_GPIO_BASE + ctrl(3), 1 << 21)
    assert clock.now_ns() == before
    assert board.mmio.read(board_map.RP1_GPIO_BASE + ctrl(3)) == 1 << 21
    assert clock.now_ns() == before + board_map.RP1_READ_NS
    # a rising edge on an enabled pin raises INTID 261 at the GIC-400
    board.mmio.write(board_map.GICD_BASE, 1)
    board.mmio.write(board_map.GICD_BASE + 0x100 + 261 // 32 * 4, 1 << (261 % 32))
    board.mmio.write(board_map.GICD_BASE + 0x400 + 260, 0x80 << 8)
    board.mmio.write(board_map.GICC_BASE + 4, 0xFF)
    board.mmio.write(board_map.GICC_BASE, 1)
    assert not board.irq_pending()
    board.gpio.set_input(3, 1)
    assert board.irq_pending()
    assert board.mmio.read(board_map.GICC_BASE + 0xC) == 261


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("22=1@1.5s", stimulus.GpioEvent(1_500_000_000, 22, 1)),
        ("17=0@250ms", stimulus.GpioEvent(250_000_000, 17, 0)),
        (" 0 = 1 @ 2 ", stimulus.GpioEvent(2_000_000_000, 0, 1)),
        ("27=1@10us", stimulus.GpioEvent(10_000, 27, 1)),
        ("5=1@7ns", stimulus.GpioEvent(7, 5, 1)),
        ("5=1@.1", stimulus.GpioEvent(100_000_000, 5, 1)),
    ],
)
def test_gpio_event_syntax(text: str, event: stimulus.GpioEvent) -> None:
    assert stimulus.parse_event(text) == event


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22=2@1s", "bad GPIO event '22=2@1s': use PIN=LEVEL@TIME, e.g. 22=1@1.5s"),
        ("22=1", "bad GPIO event '22=1': use PIN=LEVEL@TIME"),
        ("28=1@1s", "bad GPIO event '28=1@1s': pin 28 is not 0..27"),
        ("22=1@1h", "bad GPIO event '22=1@1h'"),
    ],
)
def test_bad_gpio_events(text: str, message: str) -> None:
    with pytest.raises(stimulus.StimulusError) as err:
        stimulus.parse_event(text)
    assert str(err.value).startswith(message)


def test_gpio_script_and_scheduling(tmp_path: Path) -> None:
    script = tmp_path / "bench.gpio"
    script.write_text("# limit switch bench\n\n22=1@2s   # closes\n22=0@2.5s\n")
    events = stimulus.parse_script(script)
    assert events == [
        stimulus.GpioEvent(2_000_000_000, 22, 1),
        stimulus.GpioEvent(2_500_000_000, 22, 0),
    ]
    bad = tmp_path / "bad.gpio"
    bad.write_text("22=1@1s\nnonsense\n")
    with pytest.raises(stimulus.StimulusError, match=r"bad.gpio:2: bad GPIO event 'nonsense'"):
        stimulus.parse_script(bad)
    with pytest.raises(stimulus.StimulusError, match="cannot read GPIO script"):
        stimulus.parse_script(tmp_path / "missing.gpio")

    image = tmp_path / "disk.img"
    image.write_bytes(bytes(4096))
    clock = VirtualClock()
    board = Rpi5Board(clock, MemoryBackend(), BlockDevice(image))
    assert stimulus.schedule(board, reversed(events)) == 2
    assert board.inputs_until_ns == 2_500_000_000
    advance(clock, 1_999_999_999)
    assert board.gpio.level(22) == 0
    advance(clock, 2_000_000_000)
    assert board.gpio.level(22) == 1
    advance(clock, 3_000_000_000)
    assert board.gpio.level(22) == 0


def test_device_log_outputs(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = DeviceEventLog(lambda: 2_000_031_250, stream, frozenset({"pwm"}))
    log.emit("gpio", "gpio: pin 18 -> 1")
    log.emit("pwm", "pwm0.1: duty 0%")
    assert stream.getvalue() == "[    2.000031250] pwm0.1: duty 0%\n"  # gpio filtered out
    assert [e.message for e in log.events] == ["gpio: pin 18 -> 1", "pwm0.1: duty 0%"]
    path = tmp_path / "dev.log"
    file_log = open_device_log(str(path), lambda: 5)
    file_log.emit("gpio", "gpio: pin 1 -> 0")
    file_log.close()
    assert path.read_text() == "[    0.000000005] gpio: pin 1 -> 0\n"
    assert open_device_log("none", lambda: 0)._stream is None
