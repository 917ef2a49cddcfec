"""Exact guest instruction counts from Unicorn, at full speed.

`emu_start(..., count=N)` bounds a slice by instructions (Unicorn counts them in C,
about 20x cheaper than a Python block hook), but Unicorn does not expose how many
instructions ran before a hook stopped the slice early, e.g. at a syscall. It keeps
that number in `uc_struct.emu_counter`. We find the field once per process by
calibration (run a probe that traps after a known number of instructions and look for
that number at a stable offset, twice, with different counts) and read it with ctypes.
If calibration fails (a different Unicorn build), we say so clearly instead of
returning wrong times.
"""

from __future__ import annotations

import ctypes
import functools
import struct

from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc

from emulator.cpu.hostmem import engine_address, read_prefix

_SCAN_BYTES = 0x8000
_A64_NOP = struct.pack("<I", 0xD503201F)
_A64_SVC = struct.pack("<I", 0xD4000001)


class IcountUnavailable(RuntimeError):
    """The installed Unicorn does not keep an instruction counter where we expect it."""


def _probe(nops: int, budget: int) -> bytes:
    """Run `nops` NOPs then a trap under `count=budget`; snapshot uc_struct at the trap."""
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.mem_map(0x100000, 0x10000)
    uc.mem_write(0x100000, _A64_NOP * nops + _A64_SVC + _A64_NOP * 8)
    snapshot: list[bytes] = []

    def on_trap(uc: Uc, _intno: int, _data: object) -> None:
        # (as much of it as is mapped: uc_struct may end within the scanned span)
        snapshot.append(read_prefix(engine_address(uc), _SCAN_BYTES))
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_trap)
    uc.emu_start(0x100000, 0x200000, count=budget)
    if not snapshot:
        raise IcountUnavailable("calibration probe did not trap")
    return snapshot[0]


def _offsets_holding(raw: bytes, value: int) -> set[int]:
    return {
        off for off in range(0, len(raw) - 8, 8) if struct.unpack_from("<Q", raw, off)[0] == value
    }


@functools.cache
def counter_offset() -> int:
    """Byte offset of `emu_counter` in Unicorn's `uc_struct` (calibrated once)."""
    candidates: set[int] | None = None
    for nops, budget in ((1237, 1800), (4321, 4400), (77, 9000)):
        raw = _probe(nops, budget)
        # At the trap the counter holds the instructions run so far, trap included,
        # and the next field (`emu_count`) holds the budget.
        found = {
            off
            for off in _offsets_holding(raw, nops + 1)
            if off + 8 in _offsets_holding(raw, budget)
        }
        candidates = found if candidates is None else candidates & found
    if not candidates or len(candidates) != 1:
        raise IcountUnavailable(
            "cannot locate Unicorn's instruction counter; use --clock host or unicorn==2.1.4"
        )
    return candidates.pop()


class InstructionCounter:
    """Reads how many instructions the current `emu_start(count=...)` slice has run."""

    __slots__ = ("cell",)

    def __init__(self, uc: Uc) -> None:
        # The counter itself, as a ctypes view: hot readers use `cell.value` directly.
        self.cell = ctypes.c_uint64.from_address(engine_address(uc) + counter_offset())

    def executed(self, budget: int) -> int:
        """Instructions run in this slice so far (the trapping instruction included)."""
        return min(self.cell.value, budget)
