"""The VM: runs a loaded `Program` (its compiled function) against a region table.

Entry points:

* `Vm.run(program, ctx, payload)` -- a hook invocation: R1 = the 56-byte
  BpfContext (read-only), whose ``data``/``data_end`` the VM points at the payload
  region (read-only) -- callers need not know synthetic addresses.
* `Vm.run_with_memory(program, memory)` -- R1 = caller memory (writable when a
  bytearray is passed, and aliased), R2 = its length: the conformance protocol.

Both return R0 as an unsigned 64-bit int, or raise `BpfRuntimeError` -- never any
other exception (an internal error is wrapped, with its pc).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from kernel.abi import BPF_CONTEXT_SIZE, BPF_CONTEXT_STRUCT, CtxOff
from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.compiler import finish, internal_error
from kernel.bpf.interp.memory import (
    CTX_BASE,
    MEMORY_BASE,
    PAYLOAD_BASE,
    SLOT_CTX,
    SLOT_DYNAMIC,
    SLOT_MEMORY,
    SLOT_PAYLOAD,
    SLOT_SHIFT,
    SLOT_STACK,
    Memory,
    readonly,
)
from kernel.bpf.interp.program import Program
from kernel.bpf.isa import opcodes as op
from kernel.bpf.runtime.env import HelperEnv, NullHelperEnv
from kernel.bpf.runtime.helpers import LIBRARY_HELPERS, HelperFn
from kernel.bpf.runtime.maps import MapTable

DEFAULT_BUDGET = 1_000_000
# data, data_end, data_meta: the first three u64 fields of BpfContext
_CTX_POINTERS = struct.Struct("<QQQ")
assert (CtxOff.DATA, CtxOff.DATA_END, CtxOff.DATA_META) == (0, 8, 16)
STACK_TOP = (SLOT_STACK << SLOT_SHIFT) + op.STACK_SIZE  # r10 of the main frame
_ZERO_STACK = bytes(op.STACK_SIZE)
_ZERO_CTX = bytes(BPF_CONTEXT_SIZE)
_REUSE_DYNAMIC = 16  # a state with more map values mapped is dropped, not cleaned
_ONE_VALUE = SLOT_DYNAMIC + 1  # `_next_slot` after a run that mapped one map value


class Prng:
    """xorshift32: deterministic (seeded) and cheap, for get_prandom_u32."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = (seed & 0xFFFF_FFFF) or 0x2545_F491

    def next_u32(self) -> int:
        x = self.state
        x ^= (x << 13) & 0xFFFF_FFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFF_FFFF
        self.state = x
        return x


class ExecState(Memory):
    """The execution state of one program run: region table, call frames, budget, helpers.

    A `Vm` reuses one state (and its stack and context buffers) from run to run
    when the previous run left nothing behind (no dynamic regions, no frames),
    which keeps a hook invocation cheap; see `Vm._state`.
    """

    __slots__ = (
        "frames",
        "helpers",
        "env",
        "maps",
        "prng",
        "left",
        "stack",
        "stack_mv",
        "stack_H",
        "stack_I",
        "stack_Q",
        "stack_sb",
        "stack_sh",
        "stack_si",
        "ctx_buf",
        "ctx_mv",
        "ctx_view",
        "ctx_src",
        "ctx_len",
        "clean",
        "payload_src",
        "payload_view",
    )

    def __init__(
        self, helpers: Mapping[int, HelperFn], env: HelperEnv, maps: MapTable, prng: Prng
    ) -> None:
        super().__init__()
        self.frames: list[tuple[int, int, int, int, int, int]] = []
        self.helpers = helpers
        self.env = env
        self.maps = maps
        self.prng = prng
        self.left = 0  # budget left, kept by the compiled code and the reference loop
        self.stack = bytearray(op.STACK_SIZE)
        # Zeroing and refilling go through memoryviews: a memoryview slice assignment
        # is a plain memcpy, a bytearray's is several times slower.
        self.stack_mv = memoryview(self.stack)
        # Typed views of the frame: the compiled code's aligned stack accesses at
        # constant offsets are item reads and writes (compiler.NATIVE_VIEWS).
        self.stack_H = self.stack_mv.cast("H")
        self.stack_I = self.stack_mv.cast("I")
        self.stack_Q = self.stack_mv.cast("Q")
        self.stack_sb = self.stack_mv.cast("b")
        self.stack_sh = self.stack_mv.cast("h")
        self.stack_si = self.stack_mv.cast("i")
        self.ctx_buf = bytearray(BPF_CONTEXT_SIZE)
        self.ctx_mv = memoryview(self.ctx_buf)
        self.ctx_view = self.ctx_mv.toreadonly()
        # The bytes object ctx_buf was last filled from (None: unknown): a caller
        # passing the same immutable context again costs no copy.
        self.ctx_src: object = None
        self.ctx_len = -2  # payload length the context's data pointers describe
        # No caller memory mapped (`run_with_memory`): only the stack, the dynamic
        # slots and the payload to reset before reuse.
        self.clean = True
        self.payload_src: object = None
        self.payload_view: memoryview | None = None
        self[SLOT_STACK] = self.stack
        self.names[SLOT_CTX] = "context"
        self.names[SLOT_PAYLOAD] = "payload"

    def reusable(self) -> bool:
        """Cheap to clean: no frames left by a failed run, few map values mapped."""
        return not self.frames and self._next_slot - SLOT_DYNAMIC <= _REUSE_DYNAMIC

    def reset(self) -> None:
        """Unmap what the last run added: its map values, payload and memory."""
        nxt = self._next_slot
        if nxt == SLOT_DYNAMIC + 1:  # one map value (a timer program's lookup)
            del self[SLOT_DYNAMIC]  # (nothing in _view_slots; a stale name is never read)
            self._next_slot = SLOT_DYNAMIC
        elif nxt != SLOT_DYNAMIC:
            for slot in range(SLOT_DYNAMIC, nxt):
                del self[slot]
                del self.names[slot]
            self._view_slots.clear()
            self._next_slot = SLOT_DYNAMIC
        self.pop(SLOT_PAYLOAD, None)
        self.pop(SLOT_MEMORY, None)
        self.stack_mv[:] = _ZERO_STACK
        self.clean = True


def make_context(
    interrupt_latency_ns: int = 0,
    boot_time_ms: int = 0,
    kernel_heap_kb: int = 0,
    kernel_image_mb: int = 0,
) -> bytes:
    """A BpfContext with the metric fields set (data pointers are filled by `Vm.run`)."""
    return BPF_CONTEXT_STRUCT.pack(
        0, 0, 0, interrupt_latency_ns, boot_time_ms, kernel_heap_kb, kernel_image_mb
    )


class Vm:
    """Runs programs with a helper table, a map table and a helper environment."""

    def __init__(
        self,
        maps: MapTable | None = None,
        env: HelperEnv | None = None,
        helpers: Mapping[int, HelperFn] | None = None,
        *,
        seed: int = 0x2545_F491,
        reference: bool = False,
    ) -> None:
        self.maps = maps if maps is not None else MapTable()
        self.env: HelperEnv = env if env is not None else NullHelperEnv()
        # The library's shared table (compiled code recognises it), or a copy of yours.
        self.helpers = LIBRARY_HELPERS if helpers is None else dict(helpers)
        self.prng = Prng(seed)
        self.last_steps = 0  # instructions executed by the latest run
        # reference=True runs the closure interpreter (the oracle of the differential
        # tests); the product runs each program's compiled function.
        self.reference = reference
        self._free: ExecState | None = None
        self._pure: ExecState | None = None  # for pure programs: never has anything mapped

    def _state(self, env: HelperEnv | None) -> ExecState:
        """The execution state: the cached one when free (cleaned), else a new one.

        Taking it clears ``_free``, so a run a helper starts meanwhile (a device write
        raising an event) gets its own state."""
        st = self._free
        self._free = None
        if st is None or st.frames or st._next_slot - SLOT_DYNAMIC > _REUSE_DYNAMIC:
            st = ExecState(self.helpers, self.env, self.maps, self.prng)  # see reusable()
        else:
            if st.clean and st._next_slot == SLOT_DYNAMIC:
                st.stack_mv[:] = _ZERO_STACK
            else:
                st.reset()
            st.helpers = self.helpers
            st.maps = self.maps
        st.env = self.env if env is None else env
        return st

    def run(
        self,
        program: Program,
        ctx: bytes | bytearray | None = None,
        payload: bytes | bytearray | None = None,
        *,
        budget: int = DEFAULT_BUDGET,
        env: HelperEnv | None = None,
    ) -> int:
        """Run a hook invocation. ``ctx`` is 56 bytes (or None for zeros).

        The hot path of every hook: it reuses the state's context buffer (rewritten
        only when the caller passes one or the payload length changes) and the
        read-only view of a payload buffer the caller passes again. A `Program.pure`
        program can observe no memory at all, so nothing is set up for it."""
        if program.pure and not self.reference:
            return self._run_pure(program, ctx, budget)
        # `_state` inlined (one call less on every hook run)
        st = self._free
        self._free = None
        if st is None or st.frames:
            st = ExecState(self.helpers, self.env, self.maps, self.prng)
        else:
            nxt = st._next_slot
            if nxt == SLOT_DYNAMIC and st.clean:
                st.stack_mv[:] = _ZERO_STACK
            elif nxt == _ONE_VALUE and st.clean:
                # `reset` inlined for a timer program's one map value; the payload
                # slot is set or dropped below, as `reset` would leave it
                del st[SLOT_DYNAMIC]
                st._next_slot = SLOT_DYNAMIC
                st.stack_mv[:] = _ZERO_STACK
            elif nxt - SLOT_DYNAMIC > _REUSE_DYNAMIC:
                st = ExecState(self.helpers, self.env, self.maps, self.prng)  # see reusable()
            else:
                st.reset()
            st.helpers = self.helpers
            st.maps = self.maps
        st.env = self.env if env is None else env
        ctx_buf = st.ctx_buf
        if ctx is None:
            ctx = _ZERO_CTX
        if ctx is not st.ctx_src:
            if len(ctx) != BPF_CONTEXT_SIZE:
                self._free = st
                raise ValueError(f"BpfContext must be {BPF_CONTEXT_SIZE} bytes, got {len(ctx)}")
            st.ctx_mv[:] = ctx
            st.ctx_src = ctx if type(ctx) is bytes else None  # a bytearray may change
            st.ctx_len = -2  # pointers must be rewritten
        if payload is not None:
            if payload is not st.payload_src:  # a caller reusing its buffer: same view
                st.payload_src = payload
                st.payload_view = (
                    memoryview(payload) if type(payload) is bytes else readonly(payload)
                )
            st[SLOT_PAYLOAD] = st.payload_view
            n = len(payload)
            if st.ctx_len != n:
                _CTX_POINTERS.pack_into(ctx_buf, 0, PAYLOAD_BASE, PAYLOAD_BASE + n, 0)
                st.ctx_len = n
                st[SLOT_CTX] = st.ctx_view
        elif st.ctx_len != -1:  # ctx_len == -1: the last run() had no payload mapped either
            st.pop(SLOT_PAYLOAD, None)
            _CTX_POINTERS.pack_into(ctx_buf, 0, 0, 0, 0)
            st.ctx_len = -1
            st[SLOT_CTX] = st.ctx_view
        # (else the context is mapped still: only `run_with_memory` unmaps it, and it
        # sets ctx_len to -2)
        if self.reference:
            return self._execute(program, st, CTX_BASE, 0, budget)
        # `_execute` inlined for the compiled function
        st.left = budget
        try:
            return (program._compiled or program.compiled)(st, CTX_BASE, 0, budget)
        except BpfRuntimeError:
            raise
        except Exception as e:  # a compiler bug: still a VM error, never a crash
            raise internal_error(-1, e) from e
        finally:
            self.last_steps = budget - st.left
            self._free = st

    def pure_state(self) -> ExecState:
        """The state every `Program.pure` run uses: nothing is ever mapped in it (such a
        program cannot observe memory), so it needs no cleaning between runs."""
        st = self._pure
        if st is None:
            st = self._pure = ExecState(self.helpers, self.env, self.maps, self.prng)
        return st

    def _run_pure(self, program: Program, ctx: bytes | bytearray | None, budget: int) -> int:
        if ctx is not None and len(ctx) != BPF_CONTEXT_SIZE:
            raise ValueError(f"BpfContext must be {BPF_CONTEXT_SIZE} bytes, got {len(ctx)}")
        st = self._pure or self.pure_state()
        st.left = budget
        fn = program._compiled or program.compiled
        try:
            return fn(st, CTX_BASE, 0, budget)
        except BpfRuntimeError:
            raise
        except Exception as e:  # a compiler bug: still a VM error, never a crash
            raise internal_error(-1, e) from e
        finally:
            self.last_steps = budget - st.left

    def run_with_memory(
        self,
        program: Program,
        memory: bytes | bytearray | None = None,
        *,
        budget: int = DEFAULT_BUDGET,
        env: HelperEnv | None = None,
    ) -> int:
        """Run with R1 = ``memory`` (0 if None) and R2 = its length.

        A bytearray is mapped writable and aliased (the caller sees stores); bytes
        are mapped read-only.
        """
        st = self._state(env)
        st.pop(SLOT_CTX, None)
        st.ctx_len = -2  # `run` maps the context again
        st.pop(SLOT_PAYLOAD, None)
        if memory is None:
            return self._execute(program, st, 0, 0, budget)
        buf = memory if isinstance(memory, bytearray) else readonly(memory)
        st.add(SLOT_MEMORY, buf, "memory")
        st.clean = False
        return self._execute(program, st, MEMORY_BASE, len(memory), budget)

    def _execute(self, program: Program, st: ExecState, r1: int, r2: int, budget: int) -> int:
        st.left = budget
        try:
            if self.reference:
                return self._interpret(program, st, r1, r2, budget)
            fn = program._compiled or program.compiled
            try:
                return fn(st, r1, r2, budget)
            except BpfRuntimeError:
                raise
            except Exception as e:  # a compiler bug: still a VM error, never a crash
                raise internal_error(-1, e) from e
        finally:
            self.last_steps = budget - st.left
            self._free = st

    def _interpret(self, program: Program, st: ExecState, r1: int, r2: int, budget: int) -> int:
        """The reference interpreter (`compiler.finish`) from the first instruction."""
        regs = (0, r1, r2, 0, 0, 0, 0, 0, 0, 0, STACK_TOP)
        return finish(program.ops, st, 0, budget, budget, regs)
