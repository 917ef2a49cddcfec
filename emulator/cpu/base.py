"""The CPU adapter: one Unicorn instance = one hardware context plus its MMU state.

The modelled kernel gives every process its own `GuestCpu` (its registers and its
address space); a context switch is choosing which one runs next. Architecture
differences (trap decoding, register names, start state) live in the subclasses.

The syscall path is hot, so register access goes straight to libunicorn through
ctypes with preallocated buffers (the Python binding costs ~3 us per register).
"""

from __future__ import annotations

import bisect
import ctypes
import dataclasses
import enum
import mmap
import operator
from collections.abc import Callable
from typing import ClassVar

import capstone
import unicorn
from unicorn import (
    UC_HOOK_INTR,
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_FETCH_UNMAPPED,
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_READ_UNMAPPED,
    UC_HOOK_MEM_WRITE_PROT,
    UC_HOOK_MEM_WRITE_UNMAPPED,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_PROT,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_PROT,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn.unicorn_py3.unicorn import uclib as _lib

from emulator.cpu.debug import CpuDebug
from emulator.cpu.icount import InstructionCounter
from emulator.cpu.regfile import layout_for, register_views
from kernel.mm import PROT_R, PROT_W, PROT_X

# Slices, stops and uaccess also go straight to libunicorn: the binding converts every
# argument through its argtypes and copies each read twice (buffer, bytearray), about
# 1-2 us per call, and a context switch makes several of these calls. Integer
# arguments are passed as explicit c_uint64/c_size_t (no argtypes: a bare int would
# be a 32-bit C int).
# A second handle on the same library, so these prototypes leave the binding's (which
# gdb, the debugger and the tracers still call with plain ints) untouched. A PyDLL:
# the calls keep the GIL (the emulator has one thread), where a CDLL drops and
# retakes it around each call, a mutex and a condition variable every time; the
# trap callback then finds the GIL already held. No argtypes: arguments pass
# unconverted.
_raw_lib = ctypes.PyDLL(_lib._name)
_reg_write = _raw_lib.uc_reg_write
_reg_read = _raw_lib.uc_reg_read
_emu_start = _raw_lib.uc_emu_start
_emu_stop = _raw_lib.uc_emu_stop
_mem_read = _raw_lib.uc_mem_read
_mem_write = _raw_lib.uc_mem_write
_c_u64 = ctypes.c_uint64
_c_size = ctypes.c_size_t
_UC_ERR_OK = unicorn.UC_ERR_OK
# A zero 64-bit argument (emu_start's `until`: no end address; no timeout; no count),
# passed as None, a NULL pointer: the same 64-bit zero without converting a ctypes
# scalar on every slice.
_NO_END = None
# The trap hook is registered with libunicorn directly: the binding's own callback
# adds two Python frames (a dispatcher and an exception guard) to every syscall.
_INTR_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)


def _u64_view(cell: ctypes.c_uint64 | ctypes.c_size_t) -> memoryview:
    """A one-element uint64 memoryview over a ctypes scalar (same memory)."""
    return memoryview(cell).cast("B").cast("Q")


def to_uc_prot(prot: int) -> int:
    """Map the kernel's mmap protection bits (`kernel.abi.Prot`) to Unicorn's."""
    out = 0
    if prot & PROT_R:
        out |= UC_PROT_READ
    if prot & PROT_W:
        out |= UC_PROT_WRITE
    if prot & PROT_X:
        out |= UC_PROT_EXEC
    return out


class FaultKind(enum.Enum):
    """Why a guest instruction could not complete."""

    READ_UNMAPPED = "page fault reading unmapped address"
    WRITE_UNMAPPED = "page fault writing unmapped address"
    FETCH_UNMAPPED = "page fault executing unmapped address"
    READ_PROT = "protection fault reading"
    WRITE_PROT = "protection fault writing"
    FETCH_PROT = "protection fault executing"
    ILLEGAL_INSTRUCTION = "illegal instruction"
    DIVIDE_ERROR = "divide error"
    BREAKPOINT = "breakpoint trap"
    GENERAL_PROTECTION = "general protection fault"
    CPU_ERROR = "cpu error"


_MEM_FAULTS = {
    UC_MEM_READ_UNMAPPED: FaultKind.READ_UNMAPPED,
    unicorn.UC_MEM_WRITE_UNMAPPED: FaultKind.WRITE_UNMAPPED,
    UC_MEM_FETCH_UNMAPPED: FaultKind.FETCH_UNMAPPED,
    UC_MEM_READ_PROT: FaultKind.READ_PROT,
    UC_MEM_WRITE_PROT: FaultKind.WRITE_PROT,
    UC_MEM_FETCH_PROT: FaultKind.FETCH_PROT,
}
_MEM_FAULT_HOOKS = (
    UC_HOOK_MEM_READ_UNMAPPED
    | UC_HOOK_MEM_WRITE_UNMAPPED
    | UC_HOOK_MEM_FETCH_UNMAPPED
    | UC_HOOK_MEM_READ_PROT
    | UC_HOOK_MEM_WRITE_PROT
    | UC_HOOK_MEM_FETCH_PROT
)


@dataclasses.dataclass(frozen=True)
class Fault:
    """A guest CPU fault, described for the one console line the kernel prints."""

    kind: FaultKind
    pc: int
    address: int | None
    instruction: str | None

    def describe(self) -> str:
        where = f" 0x{self.address:x}" if self.address is not None else ""
        insn = f" ({self.instruction})" if self.instruction else ""
        return f"{self.kind.value}{where} at pc 0x{self.pc:x}{insn}"


class StopReason(enum.Enum):
    """How a slice of guest execution ended."""

    BUDGET = "budget"  # ran the full instruction budget (or host time slice)
    REQUESTED = "requested"  # a trap handler asked to stop (block, exit, switch)
    FAULT = "fault"
    DEBUG = "debug"  # a debugger breakpoint or watchpoint (see emulator/cpu/debug.py)


# The members the hot path compares against, read as module globals: on Python 3.11
# every `Enum.MEMBER` read goes through `EnumType.__getattr__`'s slow attribute hook
# (several hundred host instructions; a context switch made about ten of them).
_BUDGET, _REQUESTED = StopReason.BUDGET, StopReason.REQUESTED


@dataclasses.dataclass(slots=True)
class SliceResult:
    """What one `GuestCpu.run` did."""

    reason: StopReason
    executed: int
    fault: Fault | None = None


# No host mapping: `GuestCpu._hot` before any read or write (no address is inside it).
_NO_HOT: tuple[int, int, memoryview, bool] = (0, -1, memoryview(b""), False)

_new_result = object.__new__  # a SliceResult without running its __init__ (see `run`)

# A trap handler gets (cpu, syscall number, six args) and returns the value to put in
# the return register, or None to leave the registers alone (e.g. the process blocked).
TrapHandler = Callable[["GuestCpu", int, tuple[int, int, int, int, int, int]], int | None]


class GuestCpu:
    """Common Unicorn plumbing; subclasses fill in the architecture."""

    UC_ARCH: ClassVar[int]
    UC_MODE: ClassVar[int]
    CS_ARCH: ClassVar[int]
    CS_MODE: ClassVar[int]
    PC_REG: ClassVar[int]
    SP_REG: ClassVar[int]
    THREAD_POINTER_REG: ClassVar[int]
    # The general registers in the order the CPU state keeps them (consecutive 64-bit
    # slots, see `emulator.cpu.regfile`): every register syscalls use is one of them.
    REG_BLOCK: ClassVar[tuple[int, ...]]
    SYSCALL_REGS: ClassVar[tuple[int, ...]]  # nr, a1..a6
    RET_REG: ClassVar[int]
    SYSCALL_INTNO: ClassVar[int]
    CONTEXT_REGS: ClassVar[tuple[int, ...]]  # everything fork must copy
    ARCH_NAME: ClassVar[str]
    ELF_MACHINE: ClassVar[str]
    # gdb's model of a data watchpoint: x86 traps after the access, AArch64 before it
    # (gdb then steps over the instruction itself).
    WATCH_STOPS_AFTER_ACCESS: ClassVar[bool]

    def __init__(self, trap_handler: TrapHandler) -> None:
        # At most 30 attributes (29 now): CPython 3.11 keeps an instance's attributes
        # in a shared-key table, read at a fixed index by specialised bytecode, only
        # up to 30 keys; past that, every attribute read on this hot object becomes a
        # hash lookup (about 1.5 k host instructions more per context switch).
        self.uc = Uc(self.UC_ARCH, self.UC_MODE)
        self.trap_handler = trap_handler
        self.owner: object | None = None  # the kernel's process using this context
        # Prebuilt call arguments. A ctypes scalar or array passed to a foreign call is
        # converted into a fresh argument object on every call (an allocation and a
        # format-table lookup, most of what a register read costs); a `byref` is a
        # ready-made one. So the engine handle is a `byref` of a char at the engine's
        # address (the same pointer value), the register tables `byref`s of the arrays.
        engine = self.uc._uch.value
        if engine is None:  # (an engine that failed to open raised already)
            raise UcError(unicorn.UC_ERR_HANDLE)
        self._handle = ctypes.byref(ctypes.c_char.from_address(engine))
        self._counter = InstructionCounter(self.uc)
        self._counter_cell = _u64_view(self._counter.cell)  # read on every clock query
        # PC writes and SP through ctypes: the binding's reg_read costs ~2 us. (PC
        # writes must go through libunicorn: they also end the translation block.)
        self._pc = ctypes.c_uint64()
        self._pc_ref = ctypes.byref(self._pc)
        # emu_start's timeout and count, passed by value from these objects (a zero
        # as `_NO_END`); its begin is `_env_pc` (below), the PC's own memory.
        self._start_args = (ctypes.c_uint64(), ctypes.c_size_t())
        self._start_cells = tuple(_u64_view(arg) for arg in self._start_args)
        self._sp = ctypes.c_uint64()
        self._sp_ref = ctypes.byref(self._sp)
        # Host memory behind the guest's: (start, end, view, ctypes window) by start.
        self._ram: list[tuple[int, int, memoryview, ctypes.Array[ctypes.c_char]]] = []
        self._ram_starts: list[int] = []
        # Starts of the host mappings that are or ever were executable: only those can
        # hold translated code, so only writes there must go through libunicorn.
        self._may_hold_code: set[int] = set()
        # The host mapping the last read or write hit (lo, hi, view, writes may be
        # stores): the kernel's copies mostly touch one buffer again and again. Any
        # change to the mappings drops it (`_forget_hot`).
        self._hot: tuple[int, int, memoryview, bool] = _NO_HOT
        # The Uc may outlive this adapter (whoever holds `cpu.uc`): the host memory
        # behind its mappings must live at least as long as the Uc itself.
        self.uc._axiom_host_ram = self._ram  # type: ignore[attr-defined]
        self._budget = 0
        self._stop_requested = False
        self._fault: Fault | None = None
        self._pending_mem_fault: tuple[FaultKind, int] | None = None
        self.debug: CpuDebug | None = None  # set while a debugger has hooks here
        self._syscall_intno = self.SYSCALL_INTNO  # (an instance attribute reads faster)
        self._intr_callback = _INTR_CALLBACK(self._on_interrupt)  # kept alive here
        hook = ctypes.c_size_t()
        status = _lib.uc_hook_add(
            self.uc._uch,
            ctypes.byref(hook),
            UC_HOOK_INTR,
            self._intr_callback,
            None,
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != unicorn.UC_ERR_OK:
            raise UcError(status)
        self.uc.hook_add(_MEM_FAULT_HOOKS, self._on_mem_fault)
        self._arch_setup()
        # The register block and the PC in the engine's own CPU state (the engine
        # exists now: adding a hook created it), read and written as memory; see
        # `emulator.cpu.regfile`. Valid while `uc` is open (`close` drops them).
        # The syscall registers as slots of the block, the arguments picked by one
        # C call; the PC as a ctypes scalar, passed by value to emu_start.
        block = self.REG_BLOCK
        layout = layout_for(self.UC_ARCH, self.UC_MODE, block, self.PC_REG)
        self._regs, self._env_pc = register_views(self.uc, layout, len(block))
        self._env_pc_cell = _u64_view(self._env_pc)
        slots = [block.index(reg) for reg in self.SYSCALL_REGS]
        self._nr_slot = slots[0]
        self._args_of = operator.itemgetter(*slots[1:])  # one C call, six reads
        self._ret_slot = block.index(self.RET_REG)

    # ------------------------------------------------------------------ arch hooks

    def _arch_setup(self) -> None:
        """Put the CPU in the state user code expects (FPU on, etc.)."""

    def _interrupt_fault(self, intno: int) -> FaultKind:
        """Translate a non-syscall interrupt number into a fault."""
        return FaultKind.CPU_ERROR

    # ------------------------------------------------------------------ registers

    @property
    def pc(self) -> int:
        return self._env_pc_cell[0]

    @pc.setter
    def pc(self, value: int) -> None:
        self._pc.value = value & 0xFFFF_FFFF_FFFF_FFFF
        _reg_write(self._handle, self.PC_REG, self._pc_ref)

    @property
    def sp(self) -> int:
        _reg_read(self._handle, self.SP_REG, self._sp_ref)
        return self._sp.value

    @sp.setter
    def sp(self, value: int) -> None:
        self._sp.value = value & 0xFFFF_FFFF_FFFF_FFFF
        _reg_write(self._handle, self.SP_REG, self._sp_ref)

    def syscall_args(self) -> tuple[int, tuple[int, int, int, int, int, int]]:
        """The syscall number and six arguments, as a trap at this point would see them."""
        regs = self._regs
        return regs[self._nr_slot], self._args_of(regs)

    @property
    def stop_requested(self) -> bool:
        """A trap handler asked to end the slice (`request_stop`)."""
        return self._stop_requested

    def clear_stop_request(self) -> None:
        self._stop_requested = False

    def set_return(self, value: int) -> None:
        """Write a syscall result (negative values as two's complement)."""
        self._regs[self._ret_slot] = value & 0xFFFF_FFFF_FFFF_FFFF

    def set_thread_pointer(self, value: int) -> None:
        """The user thread pointer the kernel sets for PT_TLS (FS base / TPIDR_EL0)."""
        self.uc.reg_write(self.THREAD_POINTER_REG, value)

    def save_context(self) -> list[int]:
        return [self.uc.reg_read(r) for r in self.CONTEXT_REGS]

    def restore_context(self, values: list[int]) -> None:
        for reg, value in zip(self.CONTEXT_REGS, values, strict=True):
            self.uc.reg_write(reg, value)

    def reset_registers(self) -> None:
        """Zero every general register (execve starts from a clean register file)."""
        for reg in self.CONTEXT_REGS:
            self.uc.reg_write(reg, 0)
        self._arch_setup()

    # ------------------------------------------------------------------ memory

    # Guest RAM is host memory this adapter owns (`uc_mem_map_ptr` over anonymous
    # mmaps, zero-filled like Unicorn's own), so the kernel's uaccess reads are a
    # memoryview slice instead of a libunicorn call (~2 us: most of what a pipe
    # hand-off spends in memory). Writes go through libunicorn, followed by dropping
    # any code translated from the written bytes (uc_mem_write itself keeps it),
    # unless the host mapping was never executable (the stack, the heap, data): no
    # code can have been translated from it, and the write is a memoryview store too.

    def map(self, address: int, size: int, prot: int) -> None:
        self._map_backed(address, size, to_uc_prot(prot))

    def _map_backed(self, address: int, size: int, uc_prot: int) -> memoryview:
        """Map [address, address+size) onto a new zeroed host buffer; returns it."""
        self._hot = _NO_HOT
        backing = mmap.mmap(-1, size)
        window = (ctypes.c_char * size).from_buffer(backing)
        self.uc.mem_map_ptr(address, size, uc_prot, ctypes.addressof(window))
        view = memoryview(backing)
        i = bisect.bisect_left(self._ram_starts, address)
        self._ram_starts.insert(i, address)
        # The window keeps the buffer alive while Unicorn maps it.
        self._ram.insert(i, (address, address + size, view, window))
        if uc_prot & UC_PROT_EXEC:
            self._may_hold_code.add(address)
        return view

    def unmap(self, address: int, size: int) -> None:
        """Unmap; what is left of a host buffer moves to a buffer of its own size, so
        host memory follows what the guest has mapped (and the machine's budget)."""
        self._hot = _NO_HOT
        self.uc.mem_unmap(address, size)
        end = address + size
        i = max(0, bisect.bisect_right(self._ram_starts, address) - 1)
        survivors: list[tuple[int, bytes, bool]] = []
        while i < len(self._ram) and self._ram[i][0] < end:
            lo, hi, view, _window = self._ram[i]
            if hi <= address:
                i += 1
                continue
            del self._ram[i], self._ram_starts[i]
            code = lo in self._may_hold_code
            self._may_hold_code.discard(lo)
            if lo < address:
                survivors.append((lo, view[: address - lo].tobytes(), code))
            if end < hi:
                survivors.append((end, view[end - lo :].tobytes(), code))
        for begin, data, code in survivors:
            self._reback(begin, data, code)

    def _reback(self, begin: int, data: bytes, may_hold_code: bool) -> None:
        """Move the still-mapped [begin, begin+len(data)) onto a new host buffer,
        region by region with each one's protection (`may_hold_code`: the old
        buffer was executable once, so the new one counts as such too)."""
        self._hot = _NO_HOT
        stop = begin + len(data)
        regions = [
            (lo, hi + 1, perms)
            for lo, hi, perms in self.uc.mem_regions()
            if lo < stop and hi + 1 > begin
        ]
        for lo, hi, _perms in regions:
            self.uc.mem_unmap(lo, hi - lo)
        backing = mmap.mmap(-1, len(data))
        backing[:] = data
        window = (ctypes.c_char * len(data)).from_buffer(backing)
        base = ctypes.addressof(window)
        for lo, hi, perms in regions:
            self.uc.mem_map_ptr(lo, hi - lo, perms, base + (lo - begin))
        i = bisect.bisect_left(self._ram_starts, begin)
        self._ram_starts.insert(i, begin)
        self._ram.insert(i, (begin, stop, memoryview(backing), window))
        if may_hold_code or any(perms & UC_PROT_EXEC for _lo, _hi, perms in regions):
            self._may_hold_code.add(begin)

    def protect(self, address: int, size: int, prot: int) -> None:
        uc_prot = to_uc_prot(prot)
        self.uc.mem_protect(address, size, uc_prot)
        if uc_prot & UC_PROT_EXEC:
            self._now_may_hold_code(address, address + size)

    def _now_may_hold_code(self, begin: int, end: int) -> None:
        """[begin, end) became executable: mark every host mapping it touches, and
        drop any translated code Unicorn still keeps for such a mapping's range (from
        an earlier mapping whose memory it reuses), since writes there bypassed the
        invalidation until now."""
        self._hot = _NO_HOT
        i = max(0, bisect.bisect_right(self._ram_starts, begin) - 1)
        while i < len(self._ram) and self._ram[i][0] < end:
            lo, hi = self._ram[i][0], self._ram[i][1]
            if hi > begin and lo not in self._may_hold_code:
                self._may_hold_code.add(lo)
                self.uc.ctl_remove_cache(lo, hi)
            i += 1

    def read(self, address: int, size: int) -> bytes:
        """Raw read; the kernel checks permissions before calling (uaccess).
        A range inside one host mapping is sliced out of it; anything else (spanning
        mappings, unmapped: UcError) asks libunicorn."""
        lo, hi, view, _direct = self._hot
        if lo <= address and address + size <= hi:
            at = address - lo
            return view[at : at + size].tobytes()
        i = bisect.bisect_right(self._ram_starts, address) - 1
        if i >= 0:
            lo, hi, view, _window = self._ram[i]
            if address + size <= hi:
                self._hot = (lo, hi, view, lo not in self._may_hold_code)
                at = address - lo
                return view[at : at + size].tobytes()
        big = ctypes.create_string_buffer(size)
        status = _mem_read(self._handle, _c_u64(address), big, _c_size(size))
        if status != _UC_ERR_OK:
            raise UcError(status, address, size)
        return big.raw

    def write(self, address: int, data: bytes) -> None:
        if type(data) is not bytes:  # ctypes passes only bytes as a char pointer
            data = bytes(data)
        size = len(data)
        lo, hi, view, direct = self._hot
        if direct and lo <= address and address + size <= hi:
            at = address - lo
            view[at : at + size] = data
            return
        i = bisect.bisect_right(self._ram_starts, address) - 1
        if i >= 0:
            lo, hi, view, _window = self._ram[i]
            if address + size <= hi and lo not in self._may_hold_code:
                self._hot = (lo, hi, view, True)
                at = address - lo
                view[at : at + size] = data
                return
        status = _mem_write(self._handle, _c_u64(address), data, _c_size(size))
        if status != _UC_ERR_OK:
            raise UcError(status, address, size)
        # uc_mem_write does not drop code translated from the bytes it replaces: without
        # this, code the guest read() over (or gdb patched) would keep running as it was.
        self.uc.ctl_remove_cache(address, address + size)

    def regions(self) -> list[tuple[int, int, int]]:
        return list(self.uc.mem_regions())

    def copy_memory_from(self, other: GuestCpu) -> None:
        """Duplicate another context's whole address space (fork). This context is
        new (no translated code yet), so its host memory is filled directly."""
        for begin, end, perms in other.uc.mem_regions():
            size = end - begin + 1
            self._map_backed(begin, size, perms)[:] = other.read(begin, size)

    # ------------------------------------------------------------------ execution

    def executed_in_slice(self) -> int:
        """Instructions the running slice has executed so far (icount mode only).
        Outside a slice: what the last one ran (the clock reads it while sizing the
        next slice, so this value shapes slice boundaries and must stay as is)."""
        counted, budget = self._counter_cell[0], self._budget
        return counted if counted < budget else budget  # (not min(): every slice)

    def request_stop(self) -> None:
        """Called from a trap handler: end the slice after the current instruction."""
        self._stop_requested = True
        status = _emu_stop(self._handle)
        if status != _UC_ERR_OK:
            raise UcError(status)

    def run(self, budget: int = 0, timeout_us: int = 0) -> SliceResult:
        """Run from the saved PC for `budget` instructions (or `timeout_us` host time)."""
        debug = self.debug
        if debug is not None:
            return self._run_debugged(debug, budget, timeout_us)
        # Undebugged: `_run_debugged` without the debugger's steps, written out (every
        # slice); the two must stay in step.
        self._budget = budget
        self._stop_requested = False
        self._fault = None
        self._pending_mem_fault = None
        uc = self.uc
        uc._hook_exception = None
        arg_timeout, arg_count = self._start_args
        if timeout_us:
            self._start_cells[0][0] = timeout_us
        if budget:
            self._start_cells[1][0] = budget
        status = _emu_start(
            self._handle,
            self._env_pc,  # (by value: the PC as it is now)
            _NO_END,
            arg_timeout if timeout_us else _NO_END,
            arg_count if budget else _NO_END,
        )
        if status != _UC_ERR_OK or uc._hook_exception is not None:
            return self._failed_slice(status, budget)
        if self._fault is not None:
            return SliceResult(StopReason.FAULT, self._executed(budget), self._fault)
        # The result without dataclass __init__ (a Python frame): every slice.
        result = _new_result(SliceResult)
        result.fault = None
        if self._stop_requested:
            counted = self._counter_cell[0]  # `_executed`, inlined: every switch
            result.reason = _REQUESTED
            result.executed = (counted if counted < budget else budget) if budget else 0
            return result
        if self._env_pc_cell[0] == 0:
            return self._null_pc_fault(budget)
        result.reason = _BUDGET
        result.executed = budget if budget else 0
        return result

    def _failed_slice(self, status: int, budget: int) -> SliceResult:
        """emu_start failed, or a hook raised: the binding's error semantics (a failed
        start is a UcError, a hook's exception is re-raised; a UcError is a fault)."""
        try:
            if status != _UC_ERR_OK:
                raise UcError(status)
            raise self.uc._hook_exception  # type: ignore[misc]
        except UcError as err:
            return SliceResult(StopReason.FAULT, self._executed(budget), self._fault_for(err))

    def _null_pc_fault(self, budget: int) -> SliceResult:
        # emu_start's `until` is 0: a jump to address 0 ends the slice silently, in
        # icount and host-clock slices alike. Page 0 is never mapped, so it is a fault.
        fault = Fault(FaultKind.FETCH_UNMAPPED, 0, 0, None)
        return SliceResult(StopReason.FAULT, self._executed(budget), fault)

    def _run_debugged(self, debug: CpuDebug, budget: int, timeout_us: int) -> SliceResult:
        """`run` while a debugger has hooks on this CPU (breakpoints, watchpoints)."""
        self._budget = budget
        self._stop_requested = False
        self._fault = None
        self._pending_mem_fault = None
        debug.begin_slice()
        uc = self.uc
        try:
            # `Uc.emu_start` through ctypes, with the binding's error semantics: a
            # failed start raises UcError, an exception a hook raised is re-raised.
            uc._hook_exception = None
            timeout, count = self._start_cells
            timeout[0], count[0] = timeout_us, budget
            arg_timeout, arg_count = self._start_args
            status = _emu_start(
                self._handle,
                self._env_pc,
                _NO_END,
                arg_timeout if timeout_us else _NO_END,
                arg_count if budget else _NO_END,
            )
            if status != _UC_ERR_OK:
                raise UcError(status)
            if uc._hook_exception is not None:
                raise uc._hook_exception
        except UcError as err:
            return SliceResult(StopReason.FAULT, self._executed(budget), self._fault_for(err))
        finally:
            debug.end_slice()
        if debug.hit is not None:
            # The hit instruction was counted but has not retired.
            executed = max(0, self._executed(budget) - 1)
            executed += debug.finish_hit(self.WATCH_STOPS_AFTER_ACCESS)
            return SliceResult(StopReason.DEBUG, executed if budget else 0)
        if self._fault is not None:
            return SliceResult(StopReason.FAULT, self._executed(budget), self._fault)
        if self._stop_requested:
            return SliceResult(_REQUESTED, self._executed(budget))
        if self._env_pc_cell[0] == 0:
            return self._null_pc_fault(budget)
        return SliceResult(_BUDGET, budget if budget else 0)

    def _executed(self, budget: int) -> int:
        return min(self._counter_cell[0], budget) if budget else 0

    # ------------------------------------------------------------------ hooks

    def _on_interrupt(self, _handle: object, intno: int, _data: object) -> None:
        """libunicorn's trap callback, one Python frame per syscall: decode the call,
        run the kernel's handler, write the result. An exception is kept for
        `_emu_start` to raise after stopping, exactly as the binding's own hooks do."""
        try:
            if intno != self._syscall_intno:
                self._on_other_interrupt(intno)
                return
            # `syscall_args` and `set_return`, inlined: every syscall. (Callables kept
            # in instance attributes are loaded, then called: a method call on an
            # attribute that is not a method is never specialised in 3.11.)
            regs, handler, args_of = self._regs, self.trap_handler, self._args_of
            result = handler(self, regs[self._nr_slot], args_of(regs))
            if result is not None:
                regs[self._ret_slot] = result & 0xFFFF_FFFF_FFFF_FFFF
        except BaseException as e:
            uc = self.uc
            if uc._hook_exception is None:
                # the binding's own guard stores any BaseException in this field too,
                # though it declares it Optional[Exception]
                uc._hook_exception = e  # type: ignore[assignment]
            _emu_stop(self._handle)

    def reissue_trap(self) -> bool:
        """Deliver the syscall trap the PC sits after once more, without executing
        the instruction (a woken process re-issuing its blocked call: the registers
        still hold it). True if the process runs on, False if the handler asked to
        stop (it blocked again, exited, exec'd). Hook-free: gdb and tracers that
        must see the instruction re-execute it instead (`Trap.rewind_to_trap`)."""
        self._stop_requested = False
        # `syscall_args` and `set_return`, inlined: every switch (see `_on_interrupt`)
        regs, handler, args_of = self._regs, self.trap_handler, self._args_of
        result = handler(self, regs[self._nr_slot], args_of(regs))
        if result is not None:
            regs[self._ret_slot] = result & 0xFFFF_FFFF_FFFF_FFFF
        return not self._stop_requested

    def _on_other_interrupt(self, intno: int) -> None:
        """A CPU exception that is not the syscall trap: the slice ends on a fault."""
        self._fault = self._make_fault(self._interrupt_fault(intno), None, self._fault_pc())
        self.uc.emu_stop()

    def _on_mem_fault(
        self, uc: Uc, access: int, address: int, _size: int, _value: int, _data: object
    ) -> bool:
        self._pending_mem_fault = (_MEM_FAULTS.get(access, FaultKind.CPU_ERROR), address)
        return False

    def _fault_pc(self) -> int:
        """PC of the faulting instruction (interrupt hooks see the PC already past it)."""
        return self.pc

    def _fault_for(self, err: UcError) -> Fault:
        if self._fault is not None:
            return self._fault
        pc = self.pc
        if self._pending_mem_fault is not None:
            kind, address = self._pending_mem_fault
            if kind is FaultKind.FETCH_UNMAPPED or kind is FaultKind.FETCH_PROT:
                pc = address
            return self._make_fault(kind, address, pc)
        if err.errno == unicorn.UC_ERR_INSN_INVALID:
            return self._make_fault(FaultKind.ILLEGAL_INSTRUCTION, None, pc)
        return self._make_fault(FaultKind.CPU_ERROR, None, pc, detail=str(err))

    def _make_fault(
        self, kind: FaultKind, address: int | None, pc: int, detail: str | None = None
    ) -> Fault:
        return Fault(kind, pc, address, detail or self.disassemble_at(pc))

    def disassemble_at(self, pc: int) -> str | None:
        """Capstone text of the instruction at `pc`, if it is readable."""
        try:
            code = bytes(self.uc.mem_read(pc, 16))
        except UcError:
            return None
        md = capstone.Cs(self.CS_ARCH, self.CS_MODE)
        for insn in md.disasm(code, pc, 1):
            return f"{insn.mnemonic} {insn.op_str}".strip()
        return "undecodable bytes " + code[:4].hex()

    def close(self) -> None:
        """Release the Unicorn instance (its memory) now rather than at GC time."""
        # The register views point into the engine's memory: replace them first.
        self._hot = _NO_HOT
        self._regs = memoryview(bytearray(8 * len(self.REG_BLOCK))).cast("Q")
        self._env_pc = ctypes.c_uint64()
        self._env_pc_cell = _u64_view(self._env_pc)
        self.uc = None  # type: ignore[assignment]
