"""User address spaces: the kernel's record of what is mapped where, and uaccess.

Unicorn holds the bytes; this module decides placement (ELF segments, the stack with
its guard page, malloc/mmap "anywhere" allocations first-fit from the arch's base),
enforces the machine's memory limit, and checks every user pointer the kernel touches
so a bad one is -EFAULT instead of a crash.
"""

from __future__ import annotations

import bisect
import dataclasses

from kernel.abi import PAGE_SIZE, Errno, Prot, SyscallError

# The ABI's mmap bits (`Prot`) as plain ints: checked on every user access, where
# enum.IntFlag arithmetic would cost more than the check itself.
PROT_R, PROT_W, PROT_X = int(Prot.READ), int(Prot.WRITE), int(Prot.EXEC)
USER_TOP = 0x0000_7FFF_FFFF_0000
# Mappings per address space (Linux: vm.max_map_count, ENOMEM past it). Each is a
# Unicorn region, and Unicorn's cost per map grows with the number of regions: 1024
# maps cost a quarter second, 8192 would cost minutes, so a guest making many small
# allocations is refused instead of stalling the emulator.
MAX_MAP_COUNT = 1024


def page_down(value: int) -> int:
    return value & ~(PAGE_SIZE - 1)


def page_up(value: int) -> int:
    return (value + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


@dataclasses.dataclass
class Vma:
    """One mapping: [start, end) with R=1 W=2 X=4 protections."""

    start: int
    end: int
    prot: int
    kind: str  # "elf", "elf-file", "tls", "stack", "args", "guard", "heap" (malloc), "mmap"

    @property
    def size(self) -> int:
        return self.end - self.start


_NO_VMA = Vma(1, 0, 0, "none")  # `AddressSpace._hot` when no mapping is: contains nothing


class MemoryAccount:
    """The machine-wide memory budget (`-m`), shared by every address space."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0

    def check(self, size: int) -> None:
        """ENOMEM unless `size` more bytes fit (charges nothing)."""
        if self.used + size > self.limit:
            raise SyscallError(Errno.ENOMEM, f"{self.used + size} > {self.limit} bytes")

    def charge(self, size: int) -> None:
        self.check(size)
        self.used += size
        self.peak = max(self.peak, self.used)

    def release(self, size: int) -> None:
        self.used -= size


class AddressSpace:
    """The VMAs of one process, mirrored into its CPU context's Unicorn memory."""

    def __init__(self, cpu, account: MemoryAccount, alloc_base: int) -> None:  # noqa: ANN001
        self.cpu = cpu
        self.account = account
        self.alloc_base = alloc_base
        self.vmas: list[Vma] = []  # sorted by start
        self._starts: list[int] = []
        # The mapping the last uaccess hit (a syscall's buffers are mostly the same
        # few): tested before the bisect. Reset whenever `vmas` changes; a `protect`
        # changes the object itself, which this sees.
        self._hot = _NO_VMA

    # ------------------------------------------------------------ bookkeeping

    def _insert(self, vma: Vma) -> None:
        self._hot = _NO_VMA
        i = bisect.bisect_left(self._starts, vma.start)
        self.vmas.insert(i, vma)
        self._starts.insert(i, vma.start)

    def _overlapping(self, start: int, end: int) -> list[Vma]:
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        out = []
        for vma in self.vmas[i:]:
            if vma.start >= end:
                break
            if vma.end > start:
                out.append(vma)
        return out

    def find(self, address: int) -> Vma | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and self.vmas[i].start <= address < self.vmas[i].end:
            return self.vmas[i]
        return None

    @property
    def mapped_bytes(self) -> int:
        return sum(v.size for v in self.vmas if v.kind != "guard")

    # ------------------------------------------------------------ mapping

    def map_fixed(self, start: int, size: int, prot: int, kind: str) -> Vma:
        """Map zeroed pages at exactly `start`, replacing whatever was there."""
        if start % PAGE_SIZE or size <= 0:
            raise SyscallError(Errno.EINVAL, "unaligned or empty mapping")
        size = page_up(size)
        if start + size > USER_TOP or start < PAGE_SIZE:
            raise SyscallError(Errno.ENOMEM, "outside the user address range")
        # Charge the net growth first: a refused mapping must leave the old one intact.
        replaced = sum(
            min(v.end, start + size) - max(v.start, start)
            for v in self._overlapping(start, start + size)
            if v.kind != "guard"
        )
        growth = (size if kind != "guard" else 0) - replaced
        if growth > 0:
            self.account.check(growth)
        if len(self.vmas) >= MAX_MAP_COUNT:
            raise SyscallError(Errno.ENOMEM, f"{MAX_MAP_COUNT} mappings, the per-process limit")
        self.unmap(start, size)
        if kind != "guard":
            self.account.charge(size)
        self.cpu.map(start, size, prot)
        vma = Vma(start, start + size, prot, kind)
        self._insert(vma)
        return vma

    def find_free(self, size: int) -> int:
        """The first-fit address for `size` bytes above the arch's allocation base
        (the original's `Location::Anywhere`: lowest free gap that fits)."""
        size = page_up(max(size, 1))
        candidate = self.alloc_base
        for vma in self.vmas:
            if vma.end <= candidate:
                continue
            if vma.start >= candidate + size:
                break
            candidate = vma.end
        if candidate + size > USER_TOP:
            raise SyscallError(Errno.ENOMEM, "address space exhausted")
        return candidate

    def map_anywhere(self, size: int, prot: int, kind: str) -> Vma:
        """First fit above the arch's allocation base."""
        return self.map_fixed(self.find_free(size), size, prot, kind)

    def unmap(self, start: int, size: int) -> None:
        end = start + size
        for vma in self._overlapping(start, end):
            self._remove(vma)
            lo, hi = max(vma.start, start), min(vma.end, end)
            self.cpu.unmap(lo, hi - lo)
            if vma.kind != "guard":
                self.account.release(hi - lo)
            if vma.start < lo:
                self._insert(Vma(vma.start, lo, vma.prot, vma.kind))
            if hi < vma.end:
                self._insert(Vma(hi, vma.end, vma.prot, vma.kind))

    def _remove(self, vma: Vma) -> None:
        self._hot = _NO_VMA
        i = self.vmas.index(vma)
        del self.vmas[i]
        del self._starts[i]

    def protect(self, start: int, size: int, prot: int) -> None:
        for vma in self._overlapping(start, start + size):
            vma.prot = prot
        self.cpu.protect(start, size, prot)

    def release_all(self) -> None:
        """The process is gone: give its memory back to the machine."""
        self.account.release(self.mapped_bytes)
        self.vmas.clear()
        self._starts.clear()
        self._hot = _NO_VMA

    def clone_into(self, cpu) -> AddressSpace:  # noqa: ANN001
        """A copy for fork: same layout and bytes, charged to the same account."""
        self.account.charge(self.mapped_bytes)
        other = AddressSpace(cpu, self.account, self.alloc_base)
        other.vmas = [dataclasses.replace(v) for v in self.vmas]
        other._starts = list(self._starts)
        cpu.copy_memory_from(self.cpu)
        return other

    # ------------------------------------------------------------ uaccess

    def check(self, address: int, size: int, prot: int) -> None:
        """EFAULT unless [address, address+size) is mapped with `prot`.
        Most syscall buffers lie inside one mapping: that case is one bisect here;
        a range spanning mappings (or a bad one) takes `_check_span`."""
        if size > 0 and address >= 0:
            hot = self._hot
            if hot.start <= address and address + size <= hot.end and hot.prot & prot == prot:
                return
            i = bisect.bisect_right(self._starts, address) - 1
            if i >= 0:
                vma = self.vmas[i]
                if address + size <= vma.end and vma.prot & prot == prot:
                    self._hot = vma
                    return  # (vma.start <= address by the bisect; vma.end <= USER_TOP)
        elif size == 0:
            return
        self._check_span(address, size, prot)

    def _check_span(self, address: int, size: int, prot: int) -> None:
        if address < 0 or size < 0 or address + size > USER_TOP:
            raise SyscallError(Errno.EFAULT, f"bad user range 0x{address:x}+{size}")
        cursor, end = address, address + size
        while cursor < end:
            vma = self.find(cursor)
            if vma is None or vma.prot & prot != prot:
                raise SyscallError(Errno.EFAULT, f"bad user address 0x{cursor:x}")
            cursor = vma.end

    # `read` and `write` repeat `check`'s one-mapping test inline (a syscall's buffer
    # almost always lies in one mapping) and fall back to `check` for anything else.

    def read(self, address: int, size: int) -> bytes:
        if size > 0 and address >= 0:
            hot = self._hot
            if hot.start <= address and address + size <= hot.end and hot.prot & PROT_R:
                return self.cpu.read(address, size)
            i = bisect.bisect_right(self._starts, address) - 1
            if i >= 0:
                vma = self.vmas[i]
                if address + size <= vma.end and vma.prot & PROT_R:
                    self._hot = vma
                    return self.cpu.read(address, size)
        self.check(address, size, PROT_R)
        return self.cpu.read(address, size) if size else b""

    def write(self, address: int, data: bytes) -> None:
        size = len(data)
        if size and address >= 0:
            hot = self._hot
            if hot.start <= address and address + size <= hot.end and hot.prot & PROT_W:
                self.cpu.write(address, data)
                return
            i = bisect.bisect_right(self._starts, address) - 1
            if i >= 0:
                vma = self.vmas[i]
                if address + size <= vma.end and vma.prot & PROT_W:
                    self._hot = vma
                    self.cpu.write(address, data)
                    return
        self.check(address, size, PROT_W)
        if data:
            self.cpu.write(address, data)

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read(address, 8), "little")

    def read_cstring(self, address: int, limit: int = 4096) -> bytes:
        """A NUL-terminated string (ENAMETOOLONG past `limit`)."""
        out = bytearray()
        while len(out) < limit:
            vma = self.find(address + len(out))
            if vma is None or not vma.prot & PROT_R:
                raise SyscallError(Errno.EFAULT, f"bad string at 0x{address:x}")
            chunk_end = min(vma.end, address + limit)
            chunk = self.cpu.read(address + len(out), min(256, chunk_end - address - len(out)))
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
        raise SyscallError(Errno.ENAMETOOLONG)
