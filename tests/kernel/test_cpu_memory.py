"""The CPU adapter's guest RAM is host memory it owns (reads are slices of it):
mapping, partial unmaps, protection changes and fork copies must look to the
kernel exactly as Unicorn's own memory did, on both architectures."""

from __future__ import annotations

import pytest
from unicorn import UcError

from emulator.cpu import CPU_CLASSES
from kernel.mm import PROT_R, PROT_W

PAGE = 0x1000
BASE = 0x10000
PATTERN = bytes(range(256)) * (5 * PAGE // 256)


def _cpu(arch: str):  # noqa: ANN202
    return CPU_CLASSES[arch](lambda *_: None)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_partial_unmap_and_protect_keep_the_bytes(arch: str) -> None:
    cpu = _cpu(arch)
    cpu.map(BASE, 5 * PAGE, PROT_R | PROT_W)
    cpu.write(BASE, PATTERN)
    cpu.protect(BASE + 3 * PAGE, PAGE, PROT_R)
    cpu.unmap(BASE + PAGE, PAGE)  # splits the mapping: both sides keep their bytes
    assert cpu.read(BASE, PAGE) == PATTERN[:PAGE]
    assert cpu.read(BASE + 2 * PAGE, 3 * PAGE) == PATTERN[2 * PAGE :]
    assert cpu.regions() == [
        (BASE, BASE + PAGE - 1, 3),
        (BASE + 2 * PAGE, BASE + 3 * PAGE - 1, 3),
        (BASE + 3 * PAGE, BASE + 4 * PAGE - 1, 1),  # the protection survived the move
        (BASE + 4 * PAGE, BASE + 5 * PAGE - 1, 3),
    ]
    with pytest.raises(UcError):
        cpu.read(BASE + PAGE, 1)  # the hole
    with pytest.raises(UcError):
        cpu.read(BASE + PAGE - 1, 2)  # straddles into the hole
    cpu.map(BASE + PAGE, PAGE, PROT_R | PROT_W)  # a fresh page is zeroed
    assert cpu.read(BASE, 5 * PAGE) == PATTERN[:PAGE] + bytes(PAGE) + PATTERN[2 * PAGE :]
    cpu.unmap(BASE, 5 * PAGE)
    assert cpu.regions() == []


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_fork_copy_is_independent(arch: str) -> None:
    parent = _cpu(arch)
    parent.map(BASE, 2 * PAGE, PROT_R | PROT_W)
    parent.write(BASE, PATTERN[: 2 * PAGE])
    child = _cpu(arch)
    child.copy_memory_from(parent)
    assert child.regions() == parent.regions()
    parent.write(BASE, b"parent")
    child.write(BASE + PAGE, b"child")
    assert child.read(BASE, 6) == PATTERN[:6]
    assert parent.read(BASE + PAGE, 5) == PATTERN[PAGE : PAGE + 5]
    assert child.read(BASE + PAGE, 5) == b"child"
