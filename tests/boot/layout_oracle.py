"""Where the original kernel places a new process's memory (spec sections 9 and 11,
the original's `trampoline` / `Process::execve`), computed from the ELF file alone:
the oracle the layout tests compare the guest's printed addresses with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from elftools.elf.elffile import ELFFile

from userspace.strip import strip_debug

PAGE = 0x1000
STACK = 256 * PAGE
SPAWN_BASE = {"x86_64": 0xF000, "aarch64": 0x2_0000_0000}
EXEC_BASE = {"x86_64": 0xF000, "aarch64": 0x1_0000_0000}


def page_up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


@dataclasses.dataclass
class Layout:
    """Reserved ranges in allocation order, and the entry SP."""

    used: list[tuple[int, int]]
    base: int
    file_copy: int | None = None
    tls_master: int | None = None
    tls_block: int | None = None
    stack_top: int = 0

    def first_fit(self, size: int) -> int:
        """The original's VirtualMemoryManager::reserve: lowest gap above base."""
        start = self.base
        moved = True
        while moved:
            moved = False
            for lo, hi in self.used:
                if start < hi and lo < start + size:
                    start, moved = hi, True
        return start

    def reserve(self, size: int) -> int:
        start = self.first_fit(page_up(size))
        self.used.append((start, start + page_up(size)))
        return start


def expected_layout(elf_path: Path, arch: str, *, spawned: bool) -> Layout:
    data = strip_debug(elf_path.read_bytes())  # the copy in the image (build/ keeps DWARF)
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        segs = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_memsz"]]
        tls = [s["p_memsz"] for s in elf.iter_segments() if s["p_type"] == "PT_TLS"]
        used = [(s["p_vaddr"] & ~(PAGE - 1), page_up(s["p_vaddr"] + s["p_memsz"])) for s in segs]
    layout = Layout(used, (SPAWN_BASE if spawned else EXEC_BASE)[arch])
    if spawned:
        layout.file_copy = layout.reserve(len(data))
    if tls:
        layout.tls_master = layout.reserve(tls[0])
        layout.tls_block = layout.reserve(tls[0])
    stack = layout.reserve(PAGE + STACK + PAGE)  # guard, 1 MiB, upper guard (argv here)
    layout.stack_top = stack + PAGE + STACK
    return layout
