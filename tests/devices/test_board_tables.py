"""Each board is one memory-map table: the buses are built from it, the kernel reads
it, `run-virt --machine-info` prints it, and no address of it is typed anywhere else
in the source (the grep test); register maps are defined once (kernel/hw); the
interrupt controllers drive the CPU's IRQ line through a callback."""

from __future__ import annotations

import ast
import dataclasses
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulator.boards import MACHINES, Board, BusError, VirtBoard
from emulator.boards.pc import PC_MAP
from emulator.boards.virt import VIRT_MAP
from emulator.chardev import MemoryBackend
from emulator.cli import main
from emulator.clock import VirtualClock
from emulator.devices.blockdev import BlockDevice
from emulator.devices.gicv2 import GicV2
from emulator.devices.lapic import LocalApic
from kernel.arch import PLATFORMS
from kernel.arch.x86_64 import X86_64Platform
from kernel.board import BoardDescription, MemMapEntry

from .helpers import step

ROOT = Path(__file__).resolve().parents[2]
# The modules that hold a board table: the only places its addresses may be written.
TABLE_MODULES = {
    "pc": "emulator/boards/pc.py",
    "virt": "emulator/boards/virt.py",
    "rpi5": "emulator/boards/rpi5.py",
}
# Addresses a table's entries are derived from, which must not be typed elsewhere
# either (the RP1 south bridge's PCIe window; its peripherals are offsets into it).
DERIVED_BASES = {"rpi5": [0x1F_0000_0000]}
HEX = re.compile(r"\b0[xX][0-9a-fA-F_]+\b")

MACHINE_INFO = {
    "pc": [
        "board pc (x86_64)",
        "name       device             bus              base    size  irq",
        "com1       16550a             io              0x3F8     0x8  -",
        "lapic      lapic              mmio      0xFEE0_0000  0x1000  -",
        "hpet       hpet               mmio      0xFED0_0000   0x400  -",
        "iio        iio-accel          mmio      0xFEB0_0000   0x100  -",
    ],
    "virt": [
        "board virt (aarch64)",
        "name       device             bus              base    size  irq",
        "pl011      pl011              mmio      0x0900_0000  0x1000  -",
        "gicd       gicv2-dist         mmio      0x0800_0000  0x1000  -",
        "gicc       gicv2-cpu          mmio      0x0801_0000  0x2000  -",
        "iio        iio-accel          mmio      0x090C_0000   0x100  -",
        "timer      arm-generic-timer  sysreg              -       -  30",
    ],
    "rpi5": [
        "board rpi5 (aarch64)",
        "name       device             bus              base    size  irq",
        "uart10     pl011              mmio   0x10_7D00_1000  0x1000  -",
        "gicd       gic400-dist        mmio   0x10_7FFF_9000  0x1000  -",
        "gicc       gic400-cpu         mmio   0x10_7FFF_A000  0x2000  -",
        "rp1-gpio   rp1-gpio           mmio   0x1F_000D_0000  0x4000  261",
        "rp1-pwm0   rp1-pwm            mmio   0x1F_0009_8000  0x4000  -",
        "rp1-pwm1   rp1-pwm            mmio   0x1F_0009_C000  0x4000  -",
        "timer      arm-generic-timer  sysreg              -       -  30",
    ],
}


def _parts(tmp_path: Path) -> tuple[VirtualClock, MemoryBackend, BlockDevice]:
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(4096))
    return VirtualClock(), MemoryBackend(), BlockDevice(image)


# ------------------------------------------------------------------ --machine-info


@pytest.mark.parametrize(
    ("args", "board"),
    [
        (["--arch", "x86_64"], "pc"),
        (["--arch", "aarch64"], "virt"),
        ([], "virt"),
        (["-M", "rpi5"], "rpi5"),
        (["--arch", "aarch64", "--machine", "rpi5"], "rpi5"),
        (["-M", "pc"], "pc"),
    ],
)
def test_machine_info_prints_the_board_table(args: list[str], board: str) -> None:
    result = CliRunner().invoke(main, [*args, "--machine-info"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == MACHINE_INFO[board]
    assert MACHINES[board].description.table() == MACHINE_INFO[board]


def test_machine_info_from_the_real_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "-M", "rpi5", "--machine-info"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == MACHINE_INFO["rpi5"]


def test_machine_info_needs_no_image_and_refuses_a_wrong_arch(tmp_path: Path) -> None:
    missing = str(tmp_path / "nothing.img")
    result = CliRunner().invoke(main, ["--arch", "x86_64", "--image", missing, "--machine-info"])
    assert result.exit_code == 0 and "0xFEE0_0000" in result.output
    result = CliRunner().invoke(main, ["--arch", "x86_64", "-M", "virt", "--machine-info"])
    assert result.exit_code == 126
    assert result.output == "run-virt: error: machine virt is aarch64, not x86_64\n"


# ------------------------------------------------------------------ the grep test


def hex_literals(text: str) -> set[int]:
    """Every hex literal in `text`, whatever its spelling (underscores, case, zeros)."""
    return {int(m.group().replace("_", ""), 16) for m in HEX.finditer(text)}


def test_the_scanner_sees_every_spelling_of_an_address() -> None:
    planted = "a = 0x09000000\nb = 0X900_0000  # c\nd = '0x0900_0000'\ne = 0x10_7d00_1000\n"
    assert hex_literals(planted) == {0x0900_0000, 0x10_7D00_1000}
    assert 0x0900_0000 not in hex_literals("x = 0x0900_00001 + 0x90000000")


def test_no_board_address_is_typed_outside_its_table() -> None:
    forbidden: dict[int, str] = {}
    for name, board in MACHINES.items():
        for entry in board.description.values():
            if entry.base is not None:
                forbidden[entry.base] = name
        for base in DERIVED_BASES.get(name, []):
            forbidden[base] = name
    assert len(forbidden) >= 14  # every bus entry of the three tables (and the RP1 window)
    hits = []
    for path in sorted([*(ROOT / "emulator").rglob("*.py"), *(ROOT / "kernel").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        for value in hex_literals(path.read_text()) & forbidden.keys():
            if TABLE_MODULES[forbidden[value]] != rel:
                hits.append(f"{rel}: 0x{value:_X} (board {forbidden[value]})")
    assert hits == [], "addresses typed outside the board tables:\n" + "\n".join(hits)


def test_register_names_are_defined_only_in_kernel_hw() -> None:
    """A module-level constant named like a register or bit of a `kernel/hw` map, in a
    device model or a driver, is a second definition of it (import it instead)."""
    shared: set[str] = set()
    for path in (ROOT / "kernel" / "hw").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    shared |= {n.id for n in names if isinstance(n, ast.Name)}
    assert {"DR", "FR_TXFF", "GICC_IAR", "LVT_TIMER", "MAIN_COUNTER", "STATUS", "RNG1"} <= shared
    redefined = []
    users = [
        *(ROOT / "emulator" / "devices").glob("*.py"),
        *(ROOT / "kernel" / "drivers").glob("*.py"),
        *(ROOT / "kernel" / "arch").glob("*.py"),
    ]
    for path in users:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    redefined += [
                        f"{path.name}: {n.id}"
                        for n in names
                        if isinstance(n, ast.Name) and n.id in shared
                    ]
    assert redefined == []


# ------------------------------------------------------------------ the table itself


def test_description_is_read_only_and_a_mapping() -> None:
    assert list(VIRT_MAP) == ["pl011", "gicd", "gicc", "iio", "timer"]
    assert VIRT_MAP["pl011"] == MemMapEntry("pl011", "pl011", "mmio", 0x0900_0000, 0x1000)
    with pytest.raises(AttributeError):
        VIRT_MAP.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        VIRT_MAP["pl011"] = VIRT_MAP["iio"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        VIRT_MAP["pl011"].base = 0  # type: ignore[misc]
    with pytest.raises(KeyError, match="board virt has no 'com1'"):
        VIRT_MAP["com1"]
    with pytest.raises(LookupError, match="timer has no address"):
        _ = VIRT_MAP["timer"].address


def test_overlapping_or_duplicate_entries_are_refused() -> None:
    a = MemMapEntry("a", "x", "mmio", 0x1000, 0x1000)
    with pytest.raises(ValueError, match="a overlaps b"):
        BoardDescription("t", "aarch64", "aarch64", (a, MemMapEntry("b", "x", "mmio", 0x1FFF, 4)))
    with pytest.raises(ValueError, match="duplicate"):
        BoardDescription("t", "aarch64", "aarch64", (a, a))
    with pytest.raises(ValueError, match="only sysreg"):
        MemMapEntry("t", "x", "mmio", None, 0)
    # the same window on two buses is fine (port 0x1000 is not address 0x1000)
    BoardDescription("t", "x86_64", "x86_64", (a, MemMapEntry("p", "x", "io", 0x1000, 8)))


@pytest.mark.parametrize("name", list(MACHINES))
def test_the_buses_are_built_from_the_table(name: str, tmp_path: Path) -> None:
    board: Board = MACHINES[name](*_parts(tmp_path))
    for entry in board.description.values():
        if entry.base is None:
            continue
        bus = board.mmio if entry.bus == "mmio" else board.io
        size = 1 if entry.bus == "io" else 4
        for address in (entry.base, entry.base + entry.size - size):
            region = bus._find(address, size)
            assert (region.name, region.base, region.size) == (entry.name, entry.base, entry.size)
        for outside in (entry.base - size, entry.base + entry.size):
            try:
                assert bus._find(outside, size).name != entry.name  # a neighbour, or
            except BusError:
                pass  # nothing
    decoded = sorted(r.name for bus in (board.mmio, board.io) for r in bus.regions)
    assert decoded == sorted(n for n, e in board.description.items() if e.bus != "sysreg")


def test_a_table_entry_without_a_device_is_refused(tmp_path: Path) -> None:
    extra = MemMapEntry("spare", "pl011", "mmio", 0x0A00_0000, 0x1000)

    class Broken(VirtBoard):
        description = BoardDescription("virt", "aarch64", "aarch64", (*VIRT_MAP.values(), extra))

    with pytest.raises(ValueError, match="spare"):
        Broken(*_parts(tmp_path))


def test_the_kernel_takes_its_addresses_from_the_table(tmp_path: Path) -> None:
    """Move the PL011 and the GIC in a board's table: the kernel's console and
    interrupt setup follow, without a line of kernel code changing."""
    moved = {"pl011": 0x0A00_0000, "gicd": 0x0C00_0000, "gicc": 0x0C01_0000}
    entries = tuple(
        dataclasses.replace(e, base=moved.get(e.name, e.base)) for e in VIRT_MAP.values()
    )

    class Moved(VirtBoard):
        description = BoardDescription("virt", "aarch64", "aarch64", entries)

    clock, backend, block = _parts(tmp_path)
    board = Moved(clock, backend, block)
    platform = PLATFORMS[board.description.platform](board)
    platform.console_write(b"hi\n")
    assert backend.data == b"hi\r\n"
    log = type("Log", (), {"info": lambda *_: None})()
    platform.init_interrupts(log)
    assert board.gic.dist_enabled and board.gic.cpu_enabled and board.gic.enabled[30]
    with pytest.raises(BusError):
        board.mmio.read(0x0900_0000)  # nothing is left at the old address


def test_pc_kernel_platform_uses_the_pc_table(tmp_path: Path) -> None:
    board = MACHINES["pc"](*_parts(tmp_path))
    assert PLATFORMS[PC_MAP.platform] is X86_64Platform
    platform = X86_64Platform(board)
    assert (platform.lapic, platform.hpet, platform.iio_base) == (
        0xFEE0_0000,
        0xFED0_0000,
        0xFEB0_0000,
    )
    assert platform.gpio_base is None and platform.pwm_bases == ()


# ------------------------------------------------------------------ IRQ lines


def _full_scan(gic: GicV2) -> int | None:
    """The GIC's choice by definition: every line in INTID order, strictly better wins."""
    best = None
    for i in range(gic.num_irqs):
        if gic.pending[i] and gic.enabled[i] and i not in gic.active and gic.priority[i] < gic.pmr:
            if best is None or gic.priority[i] < gic.priority[best]:
                best = i
    return best


def test_gic_output_follows_its_state_through_every_kind_of_change() -> None:
    """Random register writes, input changes, acknowledges and EOIs: the line the GIC
    drives through its callback always equals its state, its choice equals a scan of
    every line, and the callback fires only on a change."""
    rng = random.Random(15)
    levels: list[bool] = []
    gic = GicV2(96, irq_out=levels.append)
    line = False
    for _ in range(3000):
        op = rng.randrange(8)
        intid = rng.choice([27, 30, 33, 40, 64, 95])
        if op == 0:
            gic.set_level(intid, rng.random() < 0.5)
        elif op == 1:
            gic.distributor_write(
                rng.choice([0x100, 0x180, 0x200, 0x280]) + intid // 32 * 4, 1 << intid % 32
            )
        elif op == 2:
            gic.distributor_write(0x400 + intid, rng.choice([0, 0x40, 0x80, 0xF0]), 1)
        elif op == 3:
            gic.cpu_write(0x004, rng.choice([0, 0x80, 0xFF]))
        elif op == 4:
            gic.distributor_write(0x000, rng.random() < 0.8)
            gic.cpu_write(0x000, rng.random() < 0.8)
        elif op == 5:
            gic.cpu_read(0x00C)
        elif op == 6 and gic.active:
            gic.cpu_write(0x010, rng.choice(gic.active))
        elif op == 7:
            gic.distributor_write(0xC00 + intid // 16 * 4, rng.choice([0, 0xFFFF_FFFF]))
        if levels:
            line = levels[-1]
        assert line == gic.irq_asserted()
        assert gic._best_pending() == _full_scan(gic)
    assert all(a != b for a, b in zip(levels, levels[1:], strict=False))  # changes only
    assert len(levels) > 50


def test_lapic_raises_and_lowers_intr_through_its_callback() -> None:
    clock = VirtualClock()
    levels: list[bool] = []
    lapic = LocalApic(clock, irq_out=levels.append)
    lapic.write(0x3E0, 0b0011)
    lapic.write(0x320, (1 << 17) | 0x20)
    lapic.write(0x380, 312_500)
    assert levels == []
    step(clock)
    assert levels == [True]
    step(clock)  # a second expiry while requested: the line stays high, no new call
    assert levels == [True]
    assert lapic.acknowledge() == 0x20
    assert levels == [True, False]
