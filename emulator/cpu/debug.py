"""Breakpoints and watchpoints on one CPU context, through Unicorn hooks.

Why hooks and not `brk`/`int3` bytes: the guest never sees a changed byte, so code
checksums, self-reads and the console stay exactly as without a debugger.

A hit stops Unicorn in the middle of the instruction: a code hook stops before it
executes; a memory hook stops after the access was performed but before the
instruction's register results are written (QEMU keeps instructions restartable).
`finish_hit` turns that into an architectural stop: it undoes the watched bytes the
instruction wrote and, where gdb expects to stop *after* the access (x86), re-runs
that one instruction with the hooks quiet. The instruction counter is corrected by
the caller so guest time is the same as in an undisturbed run.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE, Uc

if TYPE_CHECKING:
    from emulator.cpu.base import GuestCpu

_MAX_ACCESS = 64  # widest single access (AVX-512 / ld4) a watch range must catch


class WatchKind(enum.IntEnum):
    """gdb's Z-packet numbers for data watchpoints."""

    WRITE = 2
    READ = 3
    ACCESS = 4


@dataclasses.dataclass(frozen=True)
class DebugHit:
    """What stopped the slice: a breakpoint at `pc`, or a watchpoint on `address`."""

    pc: int
    watch: WatchKind | None = None
    address: int = 0


class CpuDebug:
    """Debug state of one `GuestCpu` (one address space)."""

    def __init__(self, cpu: GuestCpu) -> None:
        self.cpu = cpu
        self.breakpoints: dict[int, int] = {}  # address -> hook handle
        self.watchpoints: dict[tuple[int, int, WatchKind], list[int]] = {}
        self.hit: DebugHit | None = None
        # Resuming at a reported hit: the machine runs a one-instruction slice first,
        # with hits ignored, so the instruction gdb stopped at is not hit again.
        self.skip_first = False
        self._quiet = False
        self._undo: list[tuple[int, bytes]] = []

    @property
    def uc(self) -> Uc:
        return self.cpu.uc

    # ------------------------------------------------------------ breakpoints

    def add_breakpoint(self, address: int) -> None:
        if address in self.breakpoints:
            return
        self.breakpoints[address] = self.uc.hook_add(
            UC_HOOK_CODE, self._on_code, begin=address, end=address
        )
        self._retranslate(address, 1)

    def remove_breakpoint(self, address: int) -> bool:
        handle = self.breakpoints.pop(address, None)
        if handle is None:
            return False
        self.uc.hook_del(handle)
        self._retranslate(address, 1)
        return True

    def _retranslate(self, address: int, size: int) -> None:
        """Drop cached translations of the code so a changed code hook takes effect."""
        self.uc.ctl_remove_cache(address, address + size)

    # ------------------------------------------------------------ watchpoints

    def add_watchpoint(self, address: int, length: int, kind: WatchKind) -> None:
        key = (address, length, kind)
        if key in self.watchpoints:
            return
        begin = max(0, address - _MAX_ACCESS + 1)
        end = address + length - 1
        handles = []
        if kind in (WatchKind.WRITE, WatchKind.ACCESS):
            handles.append(self.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_mem, key, begin, end))
        if kind in (WatchKind.READ, WatchKind.ACCESS):
            handles.append(self.uc.hook_add(UC_HOOK_MEM_READ, self._on_mem, key, begin, end))
        self.watchpoints[key] = handles
        self.uc.ctl_flush_tb()

    def remove_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        handles = self.watchpoints.pop((address, length, kind), None)
        if handles is None:
            return False
        for handle in handles:
            self.uc.hook_del(handle)
        self.uc.ctl_flush_tb()
        return True

    def clear(self) -> None:
        """Remove everything (gdb detached or disconnected)."""
        for address in list(self.breakpoints):
            self.remove_breakpoint(address)
        for key in list(self.watchpoints):
            self.remove_watchpoint(*key)

    @property
    def empty(self) -> bool:
        return not self.breakpoints and not self.watchpoints

    # ------------------------------------------------------------ slice protocol

    def begin_slice(self) -> None:
        self.hit = None
        self._undo.clear()

    def end_slice(self) -> None:
        self.skip_first = False

    def finish_hit(self, stop_after_access: bool) -> int:
        """Make the hit an architectural stop; returns instructions retired doing so."""
        hit = self.hit
        if hit is None or hit.watch is None:
            return 0
        for address, old in reversed(self._undo):
            self.uc.mem_write(address, old)
        self._undo.clear()
        if not stop_after_access:
            return 0
        self._quiet = True
        try:
            self.uc.emu_start(self.cpu.pc, 0, count=1)
        finally:
            self._quiet = False
        return 1

    # ------------------------------------------------------------ hooks

    def _on_code(self, uc: Uc, address: int, _size: int, _data: object) -> None:
        if self._quiet or self.skip_first or self.hit is not None:
            return
        self.hit = DebugHit(address)
        uc.emu_stop()

    def _on_mem(
        self,
        uc: Uc,
        access: int,
        address: int,
        size: int,
        _value: int,
        key: tuple[int, int, WatchKind],
    ) -> None:
        watch_address, length, kind = key
        if address + size <= watch_address or address >= watch_address + length:
            return
        if self._quiet or self.skip_first:
            return
        if access == UC_MEM_WRITE:
            self._undo.append((address, bytes(uc.mem_read(address, size))))
        if self.hit is None:
            self.hit = DebugHit(self.cpu.pc, kind, watch_address)
            uc.emu_stop()
