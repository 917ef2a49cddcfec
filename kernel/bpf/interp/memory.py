"""The VM's memory model: a table of regions at synthetic addresses.

No raw host pointers ever reach a BPF register. Every region (a stack frame, the
context, the hook payload, a map value, caller memory) owns a 4 GiB *slot* of a
synthetic 64-bit address space: ``address = slot << 32 | offset``. A load or store
looks the slot up in a dict and lets ``struct`` bounds-check the offset against the
region's buffer, so each access is checked against exactly one region and can never
spill into a neighbour. Read-only regions are read-only memoryviews, so a store into
them fails in ``pack_into`` without any extra check on the fast path.
"""

from __future__ import annotations

from kernel.bpf.errors import BpfRuntimeError

SLOT_SHIFT = 32
OFFSET_MASK = (1 << SLOT_SHIFT) - 1

SLOT_CTX = 0x1
SLOT_PAYLOAD = 0x2
SLOT_MEMORY = 0x3  # caller-supplied memory (conformance plugin, tests)
SLOT_STACK = 0x10  # frame k lives in slot SLOT_STACK + k
STACK_SLOTS = 8  # = opcodes.MAX_CALL_FRAMES
SLOT_DYNAMIC = 0x100  # map values handed out by helpers, allocated per run
MAX_DYNAMIC_REGIONS = 1 << 16

CTX_BASE = SLOT_CTX << SLOT_SHIFT
PAYLOAD_BASE = SLOT_PAYLOAD << SLOT_SHIFT
MEMORY_BASE = SLOT_MEMORY << SLOT_SHIFT

Buffer = bytearray | memoryview


class MemoryFault(Exception):
    """A helper touched memory it may not; helpers turn it into -EFAULT."""


def slot_base(slot: int) -> int:
    return slot << SLOT_SHIFT


def readonly(data: bytes | bytearray | memoryview) -> memoryview:
    """A read-only view: stores into it fail inside ``struct.pack_into``."""
    return memoryview(data).cast("B").toreadonly()


class Memory(dict):
    """Region table for one run: ``slot -> buffer`` plus names for messages.

    It *is* a dict so the interpreter's hot path is one subscript per access.
    """

    __slots__ = ("names", "_view_slots", "_next_slot")

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[int, str] = {}
        self._view_slots: dict[int, int] = {}
        self._next_slot = SLOT_DYNAMIC

    def add(self, slot: int, buf: Buffer, name: str) -> int:
        """Map ``buf`` at ``slot``; returns its base address."""
        self[slot] = buf
        self.names[slot] = name
        return slot << SLOT_SHIFT

    def add_dynamic(self, view: memoryview, name: str) -> int:
        """Map a helper-provided buffer (a map value), reusing the slot for the same view.

        The same live view (maps hand out stable views) always gets the same address
        within a run, so a program that looks a key up in a loop does not leak slots.
        ``_view_slots`` finds the slots after the first (the first value of a run, the
        usual only one, is mapped with no bookkeeping but the table and its name).
        Names of unmapped slots may be stale: `describe` reads mapped slots' only.
        """
        slot = self._next_slot
        if slot != SLOT_DYNAMIC:  # else nothing is mapped yet (the usual first lookup)
            if self.get(SLOT_DYNAMIC) is view:
                return SLOT_DYNAMIC << SLOT_SHIFT
            known = self._view_slots.get(id(view))
            if known is not None and self.get(known) is view:
                return known << SLOT_SHIFT
            if slot - SLOT_DYNAMIC >= MAX_DYNAMIC_REGIONS:
                raise MemoryFault("too many map value regions in one run")
            self._view_slots[id(view)] = slot
        self._next_slot = slot + 1
        self[slot] = view  # `add` inlined: a lookup helper maps a value on every call
        self.names[slot] = name
        return slot << SLOT_SHIFT

    # ------------------------------------------------------------ helper access

    def region(self, addr: int, size: int, write: bool = False) -> tuple[Buffer, int]:
        """(buffer, offset) for an access of ``size`` bytes, or MemoryFault."""
        buf = self.get(addr >> SLOT_SHIFT) if 0 <= addr else None
        off = addr & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            raise MemoryFault(self.describe(addr, size, write))
        if write and isinstance(buf, memoryview) and buf.readonly:
            raise MemoryFault(self.describe(addr, size, write))
        return buf, off

    def read(self, addr: int, size: int) -> bytes:
        # `region` inlined: helpers read keys and records on every call.
        buf = self.get(addr >> SLOT_SHIFT) if 0 <= addr else None
        off = addr & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            raise MemoryFault(self.describe(addr, size, False))
        return bytes(buf[off : off + size])

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        buf, off = self.region(addr, len(data), write=True)
        buf[off : off + len(data)] = data

    def read_cstr(self, addr: int, limit: int) -> bytes:
        """Bytes up to the first NUL, at most ``limit`` and never past the region."""
        # `region(addr, 1)` inlined: trace_printk reads its format on every call.
        buf = self.get(addr >> SLOT_SHIFT) if 0 <= addr else None
        off = addr & OFFSET_MASK
        if buf is None or off + 1 > len(buf):
            raise MemoryFault(self.describe(addr, 1, False))
        end = min(len(buf), off + limit) if limit > 0 else len(buf)
        if type(buf) is bytearray:  # a stack frame: search in place, copy only the string
            nul = buf.find(0, off, end)
            return bytes(buf[off : end if nul < 0 else nul])
        chunk = bytes(buf[off:end])
        nul = chunk.find(b"\0")
        return chunk if nul < 0 else chunk[:nul]

    def remaining(self, addr: int) -> int:
        """Bytes from ``addr`` to the end of its region (0 if unmapped)."""
        buf = self.get(addr >> SLOT_SHIFT)
        return 0 if buf is None else max(0, len(buf) - (addr & OFFSET_MASK))

    # ------------------------------------------------------------ diagnostics

    def describe(self, addr: int, size: int, write: bool) -> str:
        """Why an access failed, naming the region it aimed at."""
        kind = "write" if write else "read"
        slot = addr >> SLOT_SHIFT
        buf = self.get(slot)
        if buf is None:
            above = (slot + 1) << SLOT_SHIFT
            if slot + 1 in self and above - addr <= 1 << 16:
                name = self.names.get(slot + 1) or _default_name(slot + 1)
                return (
                    f"out-of-bounds {kind} of {size} bytes at {addr:#x} "
                    f"({above - addr} bytes below the start of {name} at {above:#x})"
                )
            if SLOT_STACK <= slot < SLOT_STACK + STACK_SLOTS:
                what = f"stack frame {slot - SLOT_STACK} is not live"
            else:
                what = "null pointer" if addr < (1 << SLOT_SHIFT) else "unmapped address"
            return f"invalid {kind} of {size} bytes at {addr:#x} ({what})"
        name = self.names.get(slot) or _default_name(slot)
        off = addr & OFFSET_MASK
        if off + size > len(buf):
            return (
                f"out-of-bounds {kind} of {size} bytes at {addr:#x} "
                f"({name} is {len(buf)} bytes at {slot << SLOT_SHIFT:#x}, offset {off})"
            )
        return f"{kind} of {size} bytes at {addr:#x} into read-only {name}"

    def fault(self, pc: int, addr: int, size: int, write: bool) -> BpfRuntimeError:
        return BpfRuntimeError(pc, self.describe(addr, size, write))


def _default_name(slot: int) -> str:
    if SLOT_STACK <= slot < SLOT_STACK + STACK_SLOTS:
        return f"stack frame {slot - SLOT_STACK}"
    return f"region {slot:#x}"
