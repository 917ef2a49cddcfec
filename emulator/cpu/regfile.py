"""The guest's integer registers as host memory, without a libunicorn call.

Every syscall reads the number and six arguments and writes the result; every slice
reads the PC. Through libunicorn each of these is a foreign call (about 2 k host
instructions with ctypes, most of a context switch's register traffic), yet for the
general registers and the PC `uc_reg_read`/`uc_reg_write` only copy a field of the
CPU state (`env->regs[i]`, `env->eip`; `env->xregs[i]`, `env->pc`), with no side
effect. So, as `icount` does for the instruction counter, we find where that state
lives once per architecture by calibration and read and write it with memoryviews.

Calibration: a probe engine gets distinct values in its register block and PC through
the binding; we look for a pointer field of `uc_struct` (the engine's `cpu`) whose
target holds that pattern, reading host memory only through the kernel (so a stray
pointer costs an EFAULT, never a crash), twice with different engines and values,
then check a write each way. A different Unicorn build that does not match fails
with a clear message instead of reading wrong registers.

PC *writes* still go through libunicorn: they also end the running translation block.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import struct

from unicorn import Uc

from emulator.cpu.hostmem import engine_address
from emulator.cpu.hostmem import read_exact as _read_host
from emulator.cpu.hostmem import read_prefix as _read_prefix

_UC_STRUCT_SCAN = 0x1000  # bytes of `uc_struct` searched for the `cpu` pointer
_CPU_SCAN = 0x18000  # bytes of the CPU object searched for the register block


class RegisterFileUnavailable(RuntimeError):
    """The installed Unicorn keeps its CPU registers somewhere we do not expect."""


@dataclasses.dataclass(frozen=True)
class RegisterFileLayout:
    """Where the registers are: `*(uc_struct + cpu_field) + block` is the first
    register of the block (consecutive 64-bit slots), `... + pc` the PC."""

    cpu_field: int
    block: int
    pc: int


def _seeded(
    uc_arch: int, uc_mode: int, block: tuple[int, ...], pc_reg: int, seed: int
) -> tuple[Uc, bytes, bytes]:
    """A fresh engine with `seed + i` in block register i and `seed + 0x10000` in the
    PC, and those two patterns as bytes."""
    uc = Uc(uc_arch, uc_mode)
    values = [seed + i for i in range(len(block))]
    for reg, value in zip(block, values, strict=True):
        uc.reg_write(reg, value)
    uc.reg_write(pc_reg, seed + 0x10000)
    return uc, struct.pack(f"<{len(values)}Q", *values), struct.pack("<Q", seed + 0x10000)


def _scan(uc: Uc, pattern: bytes, pc_pattern: bytes) -> set[tuple[int, int, int]]:
    """Every (uc_struct field, block offset, pc offset) whose pointer leads to them."""
    found: set[tuple[int, int, int]] = set()
    head = _read_host(engine_address(uc), _UC_STRUCT_SCAN)
    if head is None:
        return found
    for field in range(0, len(head), 8):
        target = struct.unpack_from("<Q", head, field)[0]
        if target < 0x10000 or target & 7 or target >= 1 << 63:
            continue
        body = _read_prefix(target, _CPU_SCAN)
        at = body.find(pattern)
        pc_at = body.find(pc_pattern)
        if at >= 0 and pc_at >= 0 and body.find(pattern, at + 1) < 0:
            found.add((field, at, pc_at))
    return found


def _holds(uc: Uc, candidate: tuple[int, int, int], pattern: bytes, pc_pattern: bytes) -> bool:
    """The candidate found in one engine leads to this engine's patterns too."""
    field, at, pc_at = candidate
    pointer = _read_host(engine_address(uc) + field, 8)
    if pointer is None:
        return False
    target = struct.unpack("<Q", pointer)[0]
    return (
        _read_host(target + at, len(pattern)) == pattern
        and _read_host(target + pc_at, 8) == pc_pattern
    )


def _works(uc: Uc, layout: RegisterFileLayout, block: tuple[int, ...], pc_reg: int) -> bool:
    """A write through memory is what the binding reads back, and the reverse."""
    base = ctypes.c_uint64.from_address(engine_address(uc) + layout.cpu_field).value
    first = ctypes.c_uint64.from_address(base + layout.block)
    last = ctypes.c_uint64.from_address(base + layout.block + 8 * (len(block) - 1))
    pc = ctypes.c_uint64.from_address(base + layout.pc)
    first.value = 0x0123_4567_89AB_CDEF
    uc.reg_write(block[-1], 0x0FED_CBA9_8765_4321)
    uc.reg_write(pc_reg, 0x7654_3210)
    return (
        uc.reg_read(block[0]) == 0x0123_4567_89AB_CDEF
        and last.value == 0x0FED_CBA9_8765_4321
        and pc.value == 0x7654_3210
    )


@functools.cache
def layout_for(
    uc_arch: int, uc_mode: int, block: tuple[int, ...], pc_reg: int
) -> RegisterFileLayout:
    """Calibrate once per architecture (block: the register ids in memory order)."""
    first = _seeded(uc_arch, uc_mode, block, pc_reg, 0x5A17_0000_0000_0000 | os.getpid() << 20)
    second = _seeded(uc_arch, uc_mode, block, pc_reg, 0x3C69_0000_0000_0000 | 0xBEEF << 20)
    candidates = [c for c in _scan(*first) if _holds(*second[:1], c, *second[1:])]
    # Several fields may point into the CPU object; the `cpu` field points at its
    # start, so the register block is nearest to it.
    for field, at, pc_at in sorted(candidates, key=lambda c: (c[1], c[0])):
        layout = RegisterFileLayout(field, at, pc_at)
        if _works(first[0], layout, block, pc_reg) and _works(second[0], layout, block, pc_reg):
            return layout
    raise RegisterFileUnavailable(
        "cannot locate Unicorn's CPU registers in host memory; use unicorn==2.1.4"
    )


def register_views(
    uc: Uc, layout: RegisterFileLayout, nregs: int
) -> tuple[memoryview, ctypes.c_uint64]:
    """This engine's register block as a uint64 memoryview, and its PC as a ctypes
    scalar over the same memory (passed by value, it is read at the call)."""
    base = ctypes.c_uint64.from_address(engine_address(uc) + layout.cpu_field).value
    if not base:
        raise RegisterFileUnavailable("the Unicorn engine has no CPU yet")
    block = (ctypes.c_uint64 * nregs).from_address(base + layout.block)
    return memoryview(block).cast("B").cast("Q"), ctypes.c_uint64.from_address(base + layout.pc)
